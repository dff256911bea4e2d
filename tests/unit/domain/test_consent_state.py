"""Consent states at an instant (ledger.domain.consent) and revocations in the basis judge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.domain.basis import Evidence, Fact, Interval, basis_intervals
from ledger.domain.consent import consent_state, withdrawal_state
from ledger.domain.register import NoticeVersion
from schemas import dpv


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "expires_at", "withdrawn_at", "withdrawn_by", "state"),
    [
        ("2023-01-01", None, None, None, "given"),
        ("2023-01-01", "2024-01-01", None, None, "given"),
        ("2024-01-01", "2024-01-01", None, None, "expired"),
        ("2025-01-01", "2024-01-01", None, None, "expired"),
        ("2023-06-01", None, "2023-06-01", None, "withdrawn"),
        ("2023-06-01", None, "2023-06-01", "subject", "withdrawn"),
        ("2023-06-01", None, "2023-06-01", "controller", "revoked"),
        ("2023-06-01", None, "2023-06-01", "other", "revoked"),
        ("2023-05-31", None, "2023-06-01", "controller", "given"),
        ("2025-01-01", "2024-01-01", "2023-06-01", "controller", "revoked"),
        ("2025-01-01", "2024-01-01", "2024-02-01", "subject", "expired"),
        ("2025-01-01", "2024-01-01", "2024-01-01", "subject", "expired"),
    ],
)
def test_a_consent_state_is_read_at_the_instant_asked_about(
    at: str, expires_at: str | None, withdrawn_at: str | None, withdrawn_by: str | None, state: str
) -> None:
    found = consent_state(
        at=t(at),
        expires_at=None if expires_at is None else t(expires_at),
        withdrawn_at=None if withdrawn_at is None else t(withdrawn_at),
        withdrawn_by=withdrawn_by,
    )
    assert found == state


def test_a_withdrawal_by_the_controller_is_a_revocation() -> None:
    assert withdrawal_state(None) == "withdrawn"
    assert withdrawal_state("subject") == "withdrawn"
    assert withdrawal_state("controller") == "revoked"
    assert withdrawal_state("other") == "revoked"


def test_every_consent_state_has_its_own_dpv_status() -> None:
    states = ("given", "withdrawn", "expired", "revoked")
    assert [dpv.consent_state(s) for s in states] == [
        "https://w3id.org/dpv#ConsentGiven",
        "https://w3id.org/dpv#ConsentWithdrawn",
        "https://w3id.org/dpv#ConsentExpired",
        "https://w3id.org/dpv#ConsentRevoked",
    ]


def _fact(position: int, kind: str, when: str, **values: Any) -> Fact:
    return Fact(position, kind, t(when), t(when), **values)


def _spans(intervals: list[Interval]) -> list[tuple[str, datetime, datetime | None, int | None]]:
    return [
        (i.basis, i.since, i.until, None if i.ended_by is None else i.ended_by.position)
        for i in intervals
    ]


@pytest.mark.parametrize("purpose", ["profiling", "marketing", "development"])
@pytest.mark.parametrize("by", ["controller", "other"])
def test_a_revocation_ends_every_basis_exactly_as_the_subjects_withdrawal_does(
    notice: NoticeVersion, purpose: str, by: str
) -> None:
    """Consent-only, direct-marketing (a stop for every basis) and mixed purposes alike."""
    before = [
        _fact(1, "ContractStarted", "2022-01-01", controller="0209628-8", contract="k-1"),
        _fact(2, "ConsentGranted", "2022-02-01", purpose=purpose),
    ]
    withdrawn = [*before, _fact(3, "ConsentWithdrawn", "2022-06-01", purpose=purpose)]
    revoked = [*before, _fact(3, "ConsentWithdrawn", "2022-06-01", purpose=purpose,
                              withdrawn_by=by)]  # fmt: skip
    by_subject = basis_intervals(withdrawn, [notice], purpose)
    by_other = basis_intervals(revoked, [notice], purpose)
    assert _spans(by_other) == _spans(by_subject)
    assert [i.holds_at(t("2022-07-01")) for i in by_other] == [
        i.holds_at(t("2022-07-01")) for i in by_subject
    ]
    consent = [i for i in by_other if i.basis == "consent"]
    assert consent
    assert consent[0].until == t("2022-06-01")
    assert consent[0].ended_by == Evidence(3, "ConsentWithdrawn", by)


def test_a_revocation_of_consent_to_direct_marketing_stops_the_contract_basis_too(
    notice: NoticeVersion,
) -> None:
    facts = [
        _fact(1, "ContractStarted", "2022-01-01", controller="0209628-8", contract="k-1"),
        _fact(2, "ConsentGranted", "2022-02-01", purpose="marketing"),
        _fact(3, "ConsentWithdrawn", "2022-06-01", purpose="marketing",
              withdrawn_by="controller"),
    ]  # fmt: skip
    intervals = basis_intervals(facts, [notice], "marketing")
    assert not any(i.holds_at(t("2022-07-01")) for i in intervals)
    assert {i.ended_by for i in intervals} == {Evidence(3, "ConsentWithdrawn", "controller")}
