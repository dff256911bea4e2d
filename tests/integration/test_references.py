"""Small wrong answers of issue 12: identity codes as references, EU territories abroad.

A subject reference is the service's opaque reference, never a personal identity
code (the contract says so); references are stored and shown readable (``trail``,
``findings``, error messages), so a henkilötunnus sent as one is refused at append
with ``reference_is_identity_code`` and never repeated. Åland (``AX``) and the
outermost regions with their own ISO codes are inside the EU: a recipient there is
no third-country transfer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.cli import run_captured
from ledger.domain.rules import reference_holds_identity_code
from ledger.errors import BatchRejected, SubjectNotFound
from projections.check import check
from schemas.register import Recipient
from tests import factories as f
from tests.cli.conftest import ndjson
from tests.conftest import EXAMPLE_REGISTER

CODES = [
    pytest.param("131052-308T", id="1900s-with-hyphen"),
    pytest.param("100190Y999P", id="2023-century-sign-Y"),
    pytest.param("010107A002A", id="2000s-with-A"),
    pytest.param("131052-308t", id="lower-case-check-character"),
    pytest.param("C-131052-308T", id="inside-a-reference-after-a-separator"),
    pytest.param("cust:131052-308T.2", id="between-separators"),
]


@pytest.mark.parametrize("code", CODES)
def test_a_subject_registered_under_a_personal_identity_code_is_refused_and_not_echoed(
    ledger: Ledger, code: str
) -> None:
    with pytest.raises(BatchRejected) as refused:
        f.append(ledger, f.subject_registered(code))

    (violation,) = refused.value.violations
    assert (violation.line, violation.field, violation.rule) == (
        1, "subject", "reference_is_identity_code",
    )  # fmt: skip
    shown = str(refused.value) + str(violation.as_dict())
    assert code.upper() not in shown.upper()
    assert "131052" not in shown
    with pytest.raises(SubjectNotFound):
        ledger.subject_id(code)


def test_every_line_about_a_subject_is_refused_under_an_identity_code_reference(
    ledger: Ledger,
) -> None:
    with pytest.raises(BatchRejected) as refused:
        f.append(ledger, f.consent_granted("131052-308T"))

    rules = [(v.field, v.rule) for v in refused.value.violations]
    assert ("subject", "reference_is_identity_code") in rules


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("C-1001", id="the-contracts-example"),
        pytest.param("131052-308X", id="wrong-check-character-identifies-no-one"),
        pytest.param("ORD20240115A123B", id="code-like-run-inside-a-longer-token"),
        pytest.param("010100-0010", id="individual-number-001-is-never-issued"),
    ],
)
def test_an_opaque_reference_is_accepted(ledger: Ledger, reference: str) -> None:
    f.append(ledger, f.subject_registered(reference))

    assert ledger.subject_id(reference)


def test_the_command_line_refuses_it_in_one_line_without_the_code(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", f"{tmp_path}/keys/l.master.key")
    code, _, err = run_captured(["init", "--store", store_url, "--register", str(EXAMPLE_REGISTER)])
    assert (code, err) == (0, "")

    code, out, err = run_captured(
        ["append", "--store", store_url, "--json"], ndjson(f.subject_registered("131052-308T"))
    )

    assert (code, out) == (3, "")
    assert "reference_is_identity_code" in err
    assert "131052" not in err
    assert "Traceback" not in err


def test_the_pure_rule_reads_every_century_sign() -> None:
    signs = "+-UVWXY" + "ABCDEF"
    codes = [f"131052{sign}308T" for sign in signs[:7]] + [
        f"131002{sign}308W" for sign in signs[7:]
    ]

    found = [reference_holds_identity_code(code) for code in codes]

    assert found == [True] * len(signs)


def test_a_recipient_in_aland_needs_no_transfer_safeguard(core: Core, ledger: Ledger) -> None:
    f.append(ledger, f.recipient_registered("aland-mail", country="AX"))
    f.append(ledger, f.subject_registered("C-1"), f.consent_granted("C-1"))

    answer = check(core.views(), "C-1", "marketing", at=f.utc("2023-06-01"), recipient="aland-mail")

    assert answer.recipient is not None
    assert (answer.recipient.country, answer.recipient.outside_eea) == ("AX", False)
    assert answer.problems == []


@pytest.mark.parametrize("country", ["AX", "GF", "GP", "MQ", "RE", "YT", "MF"])
def test_the_eus_own_territories_with_their_own_codes_are_no_third_country(country: str) -> None:
    found = Recipient(id="r", name="R", role="processor", country=country, purposes=("billing",))

    assert found.safeguard is None


@pytest.mark.parametrize("country", ["FO", "GL", "BL", "PM", "NC", "SJ", "GB", "CH"])
def test_territories_outside_the_eu_and_eea_still_need_a_safeguard(country: str) -> None:
    with pytest.raises(ValueError, match="a recipient outside the EU/EEA needs a safeguard"):
        Recipient(id="r", name="R", role="processor", country=country, purposes=("billing",))


def test_a_query_under_an_identity_code_never_echoes_it(ledger: Ledger) -> None:
    with pytest.raises(SubjectNotFound) as missing:
        ledger.subject_id("131052-308T")
    assert "131052" not in str(missing.value)
    with pytest.raises(SubjectNotFound) as plain:
        ledger.subject_id("C-404")
    assert "'C-404'" in str(plain.value)


def test_a_reference_with_a_control_character_is_simply_not_found(ledger: Ledger) -> None:
    with pytest.raises(SubjectNotFound) as found:
        ledger.subject_id("C-\x001")
    assert "\x00" not in str(found.value)
