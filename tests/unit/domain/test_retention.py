"""Retention status of ledger.domain.retention: due, held by law or kept (no store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ledger.domain.basis import Fact
from ledger.domain.register import NoticeVersion
from ledger.domain.retention import Status, status
from schemas.register import RetentionRule

SELLER = "0209628-8"


def t(text: str) -> datetime:
    """An instant in UTC: ``t("2023-05-10T12:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def new_year(year: int) -> datetime:
    """The first instant of ``year`` in Helsinki, in UTC (22:00 the day before)."""
    return datetime(year, 1, 1, tzinfo=ZoneInfo("Europe/Helsinki")).astimezone(UTC)


def fact(position: int, kind: str, when: str, **values: Any) -> Fact:
    return Fact(position, kind, t(when), t(when), **values)


def started(position: int, when: str, contract: str = "k-1") -> Fact:
    return fact(position, "ContractStarted", when, controller=SELLER, contract=contract)


def ended(position: int, when: str, contract: str = "k-1") -> Fact:
    return fact(position, "ContractEnded", when, controller=SELLER, contract=contract)


def granted(position: int, when: str, purpose: str = "profiling") -> Fact:
    return fact(position, "ConsentGranted", when, purpose=purpose)


def withdrawn(position: int, when: str, purpose: str = "profiling") -> Fact:
    return fact(position, "ConsentWithdrawn", when, purpose=purpose)


@dataclass(frozen=True)
class Case:
    """A category of one subject, asked about at ``at``."""

    category: str
    at: str
    last_recorded: str | None = None
    facts: tuple[Fact, ...] = ()


FROM_RECORDED = "counted from the last recorded value"
FROM_CONTRACT_END = "counted from the contract's end"
RUNNING = "a contract is running"
CONSENT_ACTIVE = "a consent is active"
FROM_WITHDRAWAL = "counted from the last withdrawal of consent"

BILLING_ENDED = (started(1, "2022-01-01"), ended(2, "2023-05-10T12:00"))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            Case("cookies", "2024-04-15T07:59", last_recorded="2023-03-15T08:00"),
            Status(
                "cookies", False, False, t("2023-03-15T08:00"), t("2024-04-15T08:00"), FROM_RECORDED
            ),
            id="recorded-kept-until-13-months-pass",
        ),
        pytest.param(
            Case("cookies", "2024-04-15T08:00", last_recorded="2023-03-15T08:00"),
            Status(
                "cookies", True, False, t("2023-03-15T08:00"), t("2024-04-15T08:00"), FROM_RECORDED
            ),
            id="recorded-due-when-13-months-pass",
        ),
        pytest.param(
            Case("cookies", "2030-01-01"),
            Status("cookies", False, False, None, None, FROM_RECORDED),
            id="recorded-never-is-never-due",
        ),
        pytest.param(
            Case("correspondence", "2029-12-31T21:59", last_recorded="2023-05-10"),
            Status("correspondence", False, True, t("2023-05-10"), new_year(2030), FROM_RECORDED),
            id="recorded-held-by-the-accounting-act",
        ),
        pytest.param(
            Case("billing", "2033-12-31T21:59", facts=BILLING_ENDED),
            Status(
                "billing", False, True, t("2023-05-10T12:00"), new_year(2034), FROM_CONTRACT_END
            ),
            id="contract-ended-held-by-the-accounting-act",
        ),
        pytest.param(
            Case("billing", "2033-12-31T22:00", facts=BILLING_ENDED),
            Status("billing", True, True, t("2023-05-10T12:00"), new_year(2034), FROM_CONTRACT_END),
            id="contract-ended-due-when-the-hold-ends",
        ),
        pytest.param(
            Case(
                "billing",
                "2040-01-01",
                last_recorded="2023-01-01",
                facts=(started(1, "2022-01-01"),),
            ),
            Status("billing", False, True, None, None, RUNNING),
            id="running-contract-holds-indefinitely",
        ),
        pytest.param(
            Case(
                "billing",
                "2040-01-01",
                facts=(
                    started(1, "2020-01-01", "k-1"),
                    ended(2, "2021-01-01", "k-1"),
                    started(3, "2022-01-01", "k-2"),
                ),
            ),
            Status("billing", False, True, None, None, RUNNING),
            id="one-running-contract-of-two-holds",
        ),
        pytest.param(
            Case(
                "metering_point",
                "2029-01-01",
                facts=(
                    started(1, "2020-01-01", "k-1"),
                    ended(2, "2021-03-01", "k-1"),
                    started(3, "2022-01-01", "k-2"),
                    ended(4, "2023-05-10", "k-2"),
                ),
            ),
            Status(
                "metering_point", False, True, t("2023-05-10"), new_year(2030), FROM_CONTRACT_END
            ),
            id="counted-from-the-last-contracts-end",
        ),
        pytest.param(
            Case("contact_person", "2024-01-31T23:59", last_recorded="2023-02-01"),
            Status(
                "contact_person",
                False,
                False,
                t("2023-02-01"),
                t("2024-02-01"),
                "no contract: counted from the last recorded value",
            ),
            id="no-contract-counted-from-recording",
        ),
        pytest.param(
            Case("contact_person", "2024-06-01T12:00", facts=BILLING_ENDED),
            Status(
                "contact_person",
                True,
                False,
                t("2023-05-10T12:00"),
                t("2024-05-10T12:00"),
                FROM_CONTRACT_END,
            ),
            id="authors-rule-due-a-year-after-the-contract",
        ),
        pytest.param(
            Case("profiles", "2030-01-01", facts=(granted(1, "2023-01-10"),)),
            Status("profiles", False, False, None, None, CONSENT_ACTIVE),
            id="consent-active-keeps-profiles",
        ),
        pytest.param(
            Case(
                "profiles",
                "2023-07-01",
                facts=(granted(1, "2023-01-10"), withdrawn(2, "2023-06-01")),
            ),
            Status("profiles", True, False, t("2023-06-01"), t("2023-07-01"), FROM_WITHDRAWAL),
            id="profiles-due-30-days-after-withdrawal",
        ),
        pytest.param(
            Case(
                "profiles",
                "2023-06-30T23:59",
                facts=(granted(1, "2023-01-10"), withdrawn(2, "2023-06-01")),
            ),
            Status("profiles", False, False, t("2023-06-01"), t("2023-07-01"), FROM_WITHDRAWAL),
            id="profiles-kept-within-30-days-of-withdrawal",
        ),
        pytest.param(
            Case(
                "profiles",
                "2030-01-01",
                facts=(
                    granted(1, "2023-01-10"),
                    withdrawn(2, "2023-06-01"),
                    granted(3, "2023-08-01"),
                ),
            ),
            Status("profiles", False, False, None, None, CONSENT_ACTIVE),
            id="consent-given-again-after-withdrawal",
        ),
        pytest.param(
            Case(
                "profiles",
                "2023-05-01",
                facts=(
                    granted(1, "2023-01-01"),
                    withdrawn(2, "2023-02-01"),
                    granted(3, "2023-03-01"),
                    withdrawn(4, "2023-04-01"),
                ),
            ),
            Status("profiles", True, False, t("2023-04-01"), t("2023-05-01"), FROM_WITHDRAWAL),
            id="counted-from-the-last-withdrawal",
        ),
        pytest.param(
            Case("profiles", "2023-07-01", last_recorded="2023-06-01"),
            Status(
                "profiles",
                True,
                False,
                t("2023-06-01"),
                t("2023-07-01"),
                "no consent given: counted from the last recorded value",
            ),
            id="no-consent-counted-from-recording",
        ),
    ],
)
def test_a_categorys_retention_status_at_an_instant(
    notice: NoticeVersion, case: Case, expected: Status
) -> None:
    rule = notice.index.retention[case.category]
    last_recorded = None if case.last_recorded is None else t(case.last_recorded)

    found = status(rule, last_recorded=last_recorded, facts=case.facts, at=t(case.at))

    assert found == expected


@pytest.mark.parametrize(
    ("due", "statutory", "held"),
    [
        pytest.param(False, True, True, id="statutory-not-yet-due-is-held"),
        pytest.param(True, True, False, id="statutory-due-is-not-held"),
        pytest.param(False, False, False, id="authors-rule-is-never-held"),
    ],
)
def test_only_a_statutory_rule_that_is_not_yet_due_holds_a_category(
    due: bool, statutory: bool, held: bool
) -> None:
    found = Status("billing", due, statutory, None, None, "reason")

    assert found.held is held


def test_a_retention_period_that_is_not_an_iso_duration_is_refused() -> None:
    with pytest.raises(ValidationError, match="period must look like P10Y, P6M, P30D or P2Y6M"):
        RetentionRule(category="billing", period="10 years", starts="recorded", statement="x")
