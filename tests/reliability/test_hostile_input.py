"""Input that cannot break a read (issue 11, cases 8-12), on both stores.

Every hostile value an auditor found accepted is now either refused at append, with
a contract-shaped violation that names the line, the field and the rule and never
echoes the value, or stored so that every query still answers: the subject view,
the trail, the lineage, every purpose's basis, the export (JSON and HTML), findings,
disclosures and retention for the whole store.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.errors import BatchRejected, Violation
from tests import factories as f

pytestmark = pytest.mark.reliability

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PIC = "131052-308T"
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + i) for i in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))
MAX_ECHO = 64
"""No refusal may carry more than this many characters of any input value."""


def read_everything(core: Core, *subjects: str) -> None:
    f.read_everything(core, subjects, NOW)


def head(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def refused(ledger: Ledger, *lines: dict[str, Any] | bytes) -> list[Violation]:
    """Append the lines in one call; assert it is refused and writes nothing."""
    before = head(ledger)
    encoded = [x if isinstance(x, bytes) else orjson.dumps(x) for x in lines]
    with pytest.raises(BatchRejected) as caught:
        ledger.append_batch(encoded)
    assert head(ledger) == before
    return list(caught.value.violations)


def rules_by_line(violations: list[Violation]) -> dict[int, set[tuple[str | None, str]]]:
    out: dict[int, set[tuple[str | None, str]]] = {}
    for v in violations:
        out.setdefault(v.line, set()).add((v.field, str(v.rule)))
    return out


def assert_no_echo(violations: list[Violation], *values: str) -> None:
    """No part of a refusal repeats a value, nor more than MAX_ECHO characters of one."""
    for v in violations:
        text = orjson.dumps(v.as_dict()).decode()
        for value in values:
            assert value not in text, v.as_dict()
            assert len(value) <= MAX_ECHO or value[:MAX_ECHO] not in text, v.as_dict()


@pytest.fixture
def subject(ledger: Ledger) -> str:
    f.append(ledger, f.subject_registered("S-1"), f.contract_started("S-1"))
    return "S-1"


# --- case 8: instants outside the supported window ---------------------------------

OUT_OF_WINDOW = [
    "9999-12-31T23:59:59-14:00",  # UTC year 10000
    "9999-12-31T23:59:59Z",
    "9000-01-01T00:00:00Z",
    "8999-12-31T23:00:00-01:00",  # 9000-01-01 in UTC
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "1899-12-31T23:59:59Z",
    "1900-01-01T01:00:00+02:00",  # 1899-12-31 in UTC
]


def test_an_expiry_past_year_9999_in_utc_is_refused_and_every_read_still_works(
    core: Core, subject: str
) -> None:
    grant = f.consent_granted(subject, data={"expires_at": "9999-12-31T23:59:59-14:00"})
    violations = refused(core.ledger, grant)
    assert [(v.line, v.field, v.rule) for v in violations] == [
        (1, "data.expires_at", "timestamp_out_of_range")
    ]
    read_everything(core, subject)


def test_every_instant_outside_1900_to_9000_utc_is_refused_wherever_it_appears(
    ledger: Ledger, subject: str
) -> None:
    lines = [f.consent_granted(subject, data={"expires_at": t}) for t in OUT_OF_WINDOW]
    lines += [f.objection(subject, occurred_at=t) for t in OUT_OF_WINDOW]
    found = rules_by_line(refused(ledger, *lines))
    n = len(OUT_OF_WINDOW)
    for i in range(n):
        assert found[i + 1] == {("data.expires_at", "timestamp_out_of_range")}
        assert found[n + i + 1] == {("occurred_at", "timestamp_out_of_range")}


def test_an_expiry_at_the_end_of_the_window_is_stored_and_every_read_works(
    core: Core, subject: str
) -> None:
    grant = f.consent_granted(subject, data={"expires_at": "8999-12-31T23:59:59Z"})
    f.append(core.ledger, grant, f.personal_data(subject, category="billing",
             fields={"billing_address": "Kauppakatu 1"}), f.contract_ended(subject))  # fmt: skip
    read_everything(core, subject)
    basis = core.views().basis(subject, "marketing", at=NOW, known_at=None)
    assert basis.lawful


# --- case 9: NUL and other control characters --------------------------------------

CONTROL_LINES: list[tuple[str, str, Any]] = [
    ("actor", "actor", lambda s, c: f.objection(s, actor=f"crm{c}x")),
    ("evidence", "data.evidence",
     lambda s, c: f.consent_granted(s, data={"evidence": f"form{c}1"})),
    ("contract", "data.contract", lambda s, c: f.contract_started(s, contract=f"K{c}2")),
    ("reference", "data.reference",
     lambda s, c: {**f.disclosed(s), "data": {**f.disclosed(s)["data"], "reference": f"r{c}"}}),
    ("idempotency key", "idempotency_key", lambda s, c: f.objection(s, idempotency_key=f"k{c}")),
    ("text value", "data.fields.name", lambda s, c: f.personal_data(s, {"name": f"Aino{c}"})),
    ("field name", "data.fields.<not shown: 5 characters>",
     lambda s, c: f.personal_data(s, {f"na{c}me": "Aino"})),
    ("erasure reason", "data.reason",
     lambda s, c: {**f.erased_fields(s), "data": {**f.erased_fields(s)["data"],
                                                   "reason": f"asked{c}"}}),
    ("logic", "data.logic",
     lambda s, c: {**f.automated_decision(s), "data": {"purpose": "billing", "logic": f"r{c}"}}),
    ("recipient name", "data.name", lambda s, c: f.recipient_registered(data={"name": f"M{c}"})),
    ("upstream reference", "data.upstream_reference",
     lambda s, c: {**f.personal_data(s), "data": {**f.personal_data(s)["data"],
                                                   "upstream_reference": f"m{c}"}}),
]  # fmt: skip


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x0b", "\x08", "\x0c"], ids=repr)
def test_a_control_character_in_any_string_is_refused_with_the_field_named(
    core: Core, subject: str, character: str
) -> None:
    lines = [build(subject, character) for _, _, build in CONTROL_LINES]
    found = rules_by_line(refused(core.ledger, *lines))
    for i, (what, field, _) in enumerate(CONTROL_LINES, start=1):
        assert found.get(i) == {(field, "invalid_character")}, what
    read_everything(core, subject)


@pytest.mark.parametrize("escape", [b"\\n", b"\\t", b"\\r"], ids=repr)
def test_a_line_break_sent_as_a_short_escape_in_a_field_name_is_refused(
    ledger: Ledger, subject: str, escape: bytes
) -> None:
    line = orjson.dumps(f.personal_data(subject, {"name": "Aino"}))
    violations = refused(ledger, line.replace(b'"name"', b'"na' + escape + b'me"'))
    assert rules_by_line(violations) == {
        1: {("data.fields.<not shown: 5 characters>", "invalid_character")}
    }


def test_a_nul_in_an_unknown_field_or_type_is_refused_without_echoing_it(
    ledger: Ledger, subject: str
) -> None:
    lines = [
        {**f.objection(subject), f"x\x00{PIC}": 1},
        {**f.objection(subject), "type": f"Objection\x00{PIC}"},
    ]
    violations = refused(ledger, *lines)
    assert {v.line for v in violations} == {1, 2}
    assert {str(v.rule) for v in violations} <= {"invalid_character", "unknown_type"}
    assert_no_echo(violations, PIC)


def test_tabs_and_line_breaks_in_free_text_are_stored_and_read_back_exactly(
    core: Core, subject: str
) -> None:
    text = "Kauppakatu 1\nA 2\tc/o Virtanen\r\n"
    f.append(
        core.ledger,
        f.personal_data(subject, category="billing", fields={"billing_address": text}),
        f.automated_decision(subject),
    )
    read_everything(core, subject)
    answer = core.views().subject(subject, at=NOW, known_at=None)
    assert answer.fields["billing"]["billing_address"].value == text


def test_an_unpaired_surrogate_from_a_python_caller_is_refused_not_a_crash(
    ledger: Ledger, subject: str
) -> None:
    before = head(ledger)
    with pytest.raises(BatchRejected) as caught:
        ledger.append_batch([f.personal_data(subject, {"name": "Aino\ud800"})])
    assert [(v.field, v.rule) for v in caught.value.violations] == [
        ("data.fields.name", "invalid_character")
    ]
    assert head(ledger) == before


# --- case 10: validators anchored and ASCII-only -------------------------------------

LOOSE_VALUES: list[tuple[dict[str, Any], str, str]] = [
    ({"personal_identity_code": f"{PIC}\n"}, "customer_basic", "invalid_personal_identity_code"),
    ({"personal_identity_code": PIC.translate(ARABIC_INDIC)}, "customer_basic",
     "invalid_personal_identity_code"),
    ({"personal_identity_code": PIC.translate(FULL_WIDTH)}, "customer_basic",
     "invalid_personal_identity_code"),
    ({"company_business_id": "0209628-8\n"}, "contact_person", "invalid_business_id"),
    ({"company_business_id": "0209628-8".translate(FULL_WIDTH)}, "contact_person",
     "invalid_business_id"),
    ({"email": "aino@example.fi\n"}, "contact_person", "invalid_value"),
    ({"phone": "+358 40 123 4567\n"}, "contact_person", "invalid_value"),
    ({"visit_date": "2023-13-45"}, "cookies", "invalid_value"),
    ({"visit_date": "2023-02-29"}, "cookies", "invalid_value"),
    ({"visit_date": "2023-01-01".translate(FULL_WIDTH)}, "cookies", "invalid_value"),
    ({"visit_date": "2023-01-01\n"}, "cookies", "invalid_value"),
]  # fmt: skip


def test_loosely_matching_identifiers_dates_and_contacts_are_refused(
    ledger: Ledger, subject: str
) -> None:
    lines = [f.personal_data(subject, fields, category=c) for fields, c, _ in LOOSE_VALUES]
    lines.append({**f.subject_registered("S-2"),
                  "data": {"kind": "person", "controller": "0209628-8\n"}})  # fmt: skip
    lines.append(f.objection(subject, occurred_at="2023-05-04T10:00:00Z\n"))
    violations = refused(ledger, *lines)
    found = rules_by_line(violations)
    for i, (fields, _, rule) in enumerate(LOOSE_VALUES, start=1):
        assert found[i] == {(f"data.fields.{next(iter(fields))}", rule)}, fields
    n = len(LOOSE_VALUES)
    assert found[n + 1] == {("data.controller", "invalid_business_id")}
    assert found[n + 2] == {("occurred_at", "invalid_timestamp")}
    assert_no_echo(violations, PIC, "0209628-8", "aino@example.fi")


def test_strict_values_are_still_stored_and_read_back(core: Core, subject: str) -> None:
    f.append(
        core.ledger,
        f.personal_data(subject),
        f.personal_data(subject, {"visit_date": "2024-02-29"}, category="cookies"),
        f.personal_data(subject, {"email": "aino@example.fi", "phone": "+358 40 123 4567",
                                  "company_business_id": "0209628-8"}, category="contact_person"),
    )  # fmt: skip
    read_everything(core, subject)
    fields = core.views().subject(subject, at=NOW, known_at=None).fields
    assert fields["customer_basic"]["personal_identity_code"].value == PIC
    assert fields["cookies"]["visit_date"].value == "2024-02-29"


# --- case 11: numbers never silently change -----------------------------------------


def consumption(subject: str, literal: str) -> bytes:
    """A PersonalDataRecorded line with a number written exactly as given."""
    line = f.personal_data(subject, {"consumption": 0}, category="metering_point",
                           source="datahub")  # fmt: skip
    return orjson.dumps(line).replace(b'"consumption":0', f'"consumption":{literal}'.encode())


@pytest.mark.parametrize(
    "literal",
    ["123456789012345678901234567890", "-123456789012345678901234567890",
     "9007199254740992", "-9007199254740992", "18446744073709551616"],
)  # fmt: skip
def test_an_integer_outside_the_exact_range_is_refused_not_rounded(
    ledger: Ledger, subject: str, literal: str
) -> None:
    violations = refused(ledger, consumption(subject, literal))
    assert [(v.field, v.rule) for v in violations] == [
        ("data.fields.consumption", "number_out_of_range")
    ]
    assert_no_echo(violations, literal)


@pytest.mark.parametrize("value", [2**53 - 1, -(2**53 - 1), 0, 12.5])
def test_a_number_in_range_is_stored_and_read_back_exactly(
    core: Core, subject: str, value: float
) -> None:
    f.append(core.ledger, orjson.loads(consumption(subject, orjson.dumps(value).decode())))
    read_everything(core, subject)
    got = core.views().subject(subject, at=NOW, known_at=None)
    stored = got.fields["metering_point"]["consumption"].value
    assert stored == value
    assert type(stored) is type(value)


@pytest.mark.parametrize("value", [2**64, -(2**70), math.nan, math.inf, -math.inf])
def test_a_python_caller_s_huge_or_non_finite_number_is_refused_not_a_crash(
    ledger: Ledger, subject: str, value: float
) -> None:
    line = f.personal_data(subject, {"consumption": value}, category="metering_point",
                           source="datahub")  # fmt: skip
    before = head(ledger)
    with pytest.raises(BatchRejected) as caught:
        ledger.append_batch([line])
    assert [(v.field, v.rule) for v in caught.value.violations] == [
        ("data.fields.consumption", "number_out_of_range")
    ]
    assert head(ledger) == before


# --- case 12: refusals never echo data ---------------------------------------------


def test_an_identity_code_as_a_field_name_is_not_echoed(ledger: Ledger, subject: str) -> None:
    violations = refused(
        ledger,
        f.personal_data(subject, {PIC: "x"}),
        {**f.objection(subject), PIC: 1},
        {**f.objection(subject), "data": {"purpose": "marketing", PIC: 1}},
        f.erased_fields(subject) | {"data": {"category": "customer_basic", "fields": [PIC],
                                             "reason": "asked"}},
    )  # fmt: skip
    assert rules_by_line(violations) == {
        1: {("data.fields.<not shown: 11 characters>", "unknown_data_field")},
        2: {("<not shown: 11 characters>", "unknown_field")},
        3: {("data.<not shown: 11 characters>", "unknown_field")},
        4: {("data.fields.<not shown: 11 characters>", "unknown_data_field")},
    }
    assert_no_echo(violations, PIC)


def test_an_identity_code_as_an_event_type_is_not_echoed(ledger: Ledger, subject: str) -> None:
    violations = refused(ledger, {**f.objection(subject), "type": PIC})
    assert [(v.type, v.field, v.rule) for v in violations] == [(None, "type", "unknown_type")]
    assert_no_echo(violations, PIC)


def test_a_megabyte_field_name_is_reported_in_a_few_characters(
    ledger: Ledger, subject: str
) -> None:
    name = "a" * 1_000_000
    violations = refused(
        ledger,
        f.personal_data(subject, {name: "x"}),
        {**f.objection(subject), name: 1},
        {**f.objection(subject), "type": "T" * 1_000_000},
        f.objection(subject, actor="a" * 1_000_000),
    )
    assert {v.line for v in violations} == {1, 2, 3, 4}
    for v in violations:
        assert len(orjson.dumps(v.as_dict())) < 400, v.as_dict()["field"]
    assert_no_echo(violations, name)


def test_an_identity_code_as_a_recipient_or_notice_version_is_not_echoed(
    ledger: Ledger, subject: str
) -> None:
    code = "311299-9872"
    violations = refused(
        ledger,
        f.disclosed(subject, recipient=code),
        f.consent_granted(subject, data={"notice_version": code}),
        {**f.recipient_registered(), "type": "RecipientEnded", "data": {"id": code,
                                                                        "reason": "ended"}},
    )  # fmt: skip
    assert rules_by_line(violations) == {
        1: {("data.recipient", "unknown_recipient")},
        2: {("data.notice_version", "unknown_notice_version")},
        3: {("data.id", "unknown_recipient")},
    }
    assert_no_echo(violations, code)


def test_a_safe_unknown_name_is_still_named(ledger: Ledger, subject: str) -> None:
    violations = refused(ledger, f.personal_data(subject, {"shoe_size": "x"}))
    assert [(v.field, v.rule) for v in violations] == [
        ("data.fields.shoe_size", "unknown_data_field")
    ]
    assert "shoe_size" in violations[0].message
