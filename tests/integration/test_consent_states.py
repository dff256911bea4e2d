"""Issue 15: consents given, withdrawn, expired or revoked, on both stores.

A withdrawal names who withdrew (``withdrawn_by``): the subject by default, stored
exactly as before; anyone else revokes it (dpv:ConsentRevoked). The register view
answers each consent's state at the instant asked, the basis answer names a
revocation, and lawfulness is the same as for the subject's own withdrawal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.bootstrap import Core, bootstrap
from ledger.clock import FixedClock
from ledger.errors import BatchRejected
from ledger.persistence.mapper import RawEvent
from tests import factories as f

DPV = "https://w3id.org/dpv#"


def _history(core: Core, *, by: str | None) -> None:
    """C-1: consent to profiling from 2022-01-01 to 2023-01-01, withdrawn on 2022-06-01."""
    withdrawal = f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z")
    if by is not None:
        withdrawal["data"]["withdrawn_by"] = by
    f.append(
        core.ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z",
                          data={"expires_at": "2023-01-01T00:00:00Z"}),
        withdrawal,
    )  # fmt: skip


def _consent(core: Core, at: str) -> Any:
    (consent,) = core.views().subject("C-1", at=f.utc(at), known_at=None).consents
    return consent


def _stored(core: Core, kind: str) -> list[RawEvent]:
    ledger = core.ledger
    notifications = ledger.recorder.select_notifications(1, 1000)
    return [e for e in (ledger.mapper.to_raw(n) for n in notifications) if e.type == kind]


def test_a_withdrawal_by_the_controller_is_answered_as_a_revocation(core: Core) -> None:
    _history(core, by="controller")

    before, after = _consent(core, "2022-03-01T00:00:00"), _consent(core, "2022-07-01T00:00:00")

    assert (before.state, before.state_dpv, before.withdrawn_by) == (
        "given", f"{DPV}ConsentGiven", None,
    )  # fmt: skip
    assert (after.state, after.state_dpv, after.withdrawn_by) == (
        "revoked", f"{DPV}ConsentRevoked", "controller",
    )  # fmt: skip
    dumped = after.model_dump(mode="json")
    assert (dumped["state"], dumped["state_dpv"]) == ("revoked", f"{DPV}ConsentRevoked")


def test_the_subjects_own_withdrawal_is_withdrawn_and_stored_as_before(core: Core) -> None:
    _history(core, by=None)

    after = _consent(core, "2022-07-01T00:00:00")

    assert (after.state, after.state_dpv, after.withdrawn_by) == (
        "withdrawn", f"{DPV}ConsentWithdrawn", "subject",
    )  # fmt: skip
    (stored,) = _stored(core, "ConsentWithdrawn")
    assert stored.data == {"purpose": "profiling", "channel": "web_form"}


def test_a_revocation_is_stored_with_who_revoked_it(core: Core) -> None:
    _history(core, by="other")

    (stored,) = _stored(core, "ConsentWithdrawn")

    assert stored.data == {"purpose": "profiling", "channel": "web_form", "withdrawn_by": "other"}


@pytest.mark.parametrize(
    ("at", "state", "term"),
    [("2022-12-31T23:59:59", "given", "ConsentGiven"),
     ("2023-01-01T00:00:00", "expired", "ConsentExpired"),
     ("2024-01-01T00:00:00", "expired", "ConsentExpired")],
)  # fmt: skip
def test_a_consent_is_expired_from_its_expiry_on(
    core: Core, at: str, state: str, term: str
) -> None:
    f.append(
        core.ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z",
                          data={"expires_at": "2023-01-01T00:00:00Z"}),
    )  # fmt: skip

    consent = _consent(core, at)

    assert (consent.state, consent.state_dpv) == (state, DPV + term)


def test_a_withdrawal_after_the_expiry_leaves_the_consent_expired(core: Core) -> None:
    f.append(
        core.ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z",
                          data={"expires_at": "2022-03-01T00:00:00Z"}),
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
    )  # fmt: skip

    consent = _consent(core, "2022-07-01T00:00:00")

    assert (consent.state, consent.withdrawn_at) == ("expired", f.utc("2022-06-01T00:00:00"))


def test_the_basis_answer_names_a_revocation_as_dpv_consent_revoked(core: Core) -> None:
    _history(core, by="controller")

    answer = core.views().basis("C-1", "profiling", at=f.utc("2022-07-01T00:00:00"), known_at=None)

    assert answer.lawful is False
    assert answer.last_ended is not None
    assert answer.last_ended.ended_by is not None
    ended = answer.last_ended.ended_by.model_dump(mode="json")
    assert (ended["type"], ended["withdrawn_by"], ended["type_dpv"]) == (
        "ConsentWithdrawn", "controller", f"{DPV}ConsentRevoked",
    )  # fmt: skip


def test_the_basis_answer_of_the_subjects_withdrawal_is_unchanged(core: Core) -> None:
    _history(core, by=None)

    answer = core.views().basis("C-1", "profiling", at=f.utc("2022-07-01T00:00:00"), known_at=None)

    assert answer.last_ended is not None
    assert answer.last_ended.ended_by is not None
    ended = answer.last_ended.ended_by.model_dump(mode="json")
    assert "withdrawn_by" not in ended
    assert ended["type_dpv"] == f"{DPV}ConsentWithdrawn"


@pytest.mark.parametrize("by", [None, "controller"])
def test_a_use_after_a_revocation_is_judged_as_after_a_withdrawal(
    core: Core, by: str | None
) -> None:
    _history(core, by=by)

    result = f.append(
        core.ledger,
        f.processed("C-1", purpose="profiling", categories=["customer_basic"],
                    occurred_at="2022-07-01T00:00:00Z"),
    )  # fmt: skip

    assert [(x["rule"], x["rule_dpv"], x["status_dpv"]) for x in result.findings] == [
        ("processing_without_consent", "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a",
         f"{DPV}Unlawful"),
    ]  # fmt: skip


def test_an_unknown_withdrawer_is_refused_naming_the_field_without_echoing_it(core: Core) -> None:
    f.append(core.ledger, f.subject_registered("C-1"), f.consent_granted("C-1"))
    line = f.consent_withdrawn("C-1")
    line["data"]["withdrawn_by"] = "Aino Virtanen"

    with pytest.raises(BatchRejected) as refused:
        f.append(core.ledger, line)

    (violation,) = refused.value.violations
    assert (violation.field, violation.rule) == ("data.withdrawn_by", "invalid_value")
    assert "Aino" not in violation.message
    assert _stored(core, "ConsentWithdrawn") == []


def test_a_register_view_made_before_withdrawn_by_existed_is_rebuilt_when_opened(
    core: Core, store_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    _history(core, by="controller")
    before = _consent(core, "2022-07-01T00:00:00")
    old_shape = (
        "CREATE TABLE {t}v_relations (subject_id TEXT NOT NULL, position {bigint} NOT NULL,"
        " type TEXT NOT NULL, occurred_at {bigint} NOT NULL, recorded_at {bigint} NOT NULL,"
        " purpose TEXT, controller TEXT, contract TEXT, metering_point TEXT, channel TEXT,"
        " evidence TEXT, notice_version TEXT, expires_at {bigint},"
        " PRIMARY KEY (subject_id, position))"
    )
    with core.store.transaction() as tx:  # as a store from before the column looked
        tx.execute("DROP TABLE {t}v_relations")
        tx.execute(old_shape)

    with bootstrap(store_url, key_file=tmp_path / "keys" / "master.key", clock=clock) as later:
        consent = _consent(later, "2022-07-01T00:00:00")

    assert consent == before
    assert (consent.state, consent.withdrawn_by) == ("revoked", "controller")
