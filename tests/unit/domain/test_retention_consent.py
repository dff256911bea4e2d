"""Retention that rests on consent, and year ends in Helsinki (issue 12), from plain values.

``profiles`` are kept 30 days from the end of the last consent of the purposes they
serve, whether the consent was withdrawn, expired or ended by an objection to
direct marketing; a rule "from the end of the year" ends at midnight in Helsinki.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ledger.domain.basis import Fact
from ledger.domain.register import NoticeVersion
from ledger.domain.retention import Consents, Status, retention_end, status
from schemas.register import RetentionRule

HELSINKI = ZoneInfo("Europe/Helsinki")
SELLER = "0209628-8"
FROM_WITHDRAWAL = "counted from the last withdrawal of consent"
FROM_EXPIRY = "counted from the consent's expiry"
FROM_OBJECTION = "counted from the objection to direct marketing"
ACTIVE = "a consent is active"


def t(text: str) -> datetime:
    """An instant: naive text is UTC, text with an offset keeps it."""
    found = datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def fact(position: int, kind: str, when: str, **values: Any) -> Fact:
    return Fact(position, kind, t(when), t(when), **values)


def granted(
    position: int, when: str, purpose: str = "profiling", expires: str | None = None
) -> Fact:
    expires_at = None if expires is None else t(expires)
    return fact(position, "ConsentGranted", when, purpose=purpose, expires_at=expires_at)


def withdrawn(position: int, when: str, purpose: str = "profiling") -> Fact:
    return fact(position, "ConsentWithdrawn", when, purpose=purpose)


def objected(position: int, when: str, purpose: str = "marketing") -> Fact:
    return fact(position, "ObjectionRecorded", when, purpose=purpose)


PROFILING = Consents(purposes={"profiling"}, direct_marketing={"marketing"})
MARKETING = Consents(purposes={"marketing"}, direct_marketing={"marketing"})


@pytest.mark.parametrize(
    ("facts", "consents", "at", "expected"),
    [
        pytest.param(
            (granted(1, "2023-01-10", expires="2023-06-01"),),
            PROFILING,
            "2023-07-01",
            (True, t("2023-06-01"), t("2023-07-01"), FROM_EXPIRY),
            id="expired-consent-due-30-days-after-expiry",
        ),
        pytest.param(
            (granted(1, "2023-01-10", expires="2023-06-01"),),
            PROFILING,
            "2023-06-30T23:59",
            (False, t("2023-06-01"), t("2023-07-01"), FROM_EXPIRY),
            id="expired-consent-kept-within-30-days",
        ),
        pytest.param(
            (granted(1, "2023-01-10", expires="2025-01-01"),),
            PROFILING,
            "2023-07-01",
            (False, t("2025-01-01"), t("2025-01-31"), FROM_EXPIRY),
            id="expiry-ahead-says-when-it-will-be-due",
        ),
        pytest.param(
            (granted(1, "2023-01-10", expires="2025-01-01"), withdrawn(2, "2023-06-01")),
            PROFILING,
            "2023-07-01",
            (True, t("2023-06-01"), t("2023-07-01"), FROM_WITHDRAWAL),
            id="withdrawal-before-expiry-counts-from-the-withdrawal",
        ),
        pytest.param(
            (
                granted(1, "2023-01-10", expires="2023-03-01"),
                granted(2, "2023-04-01"),
                withdrawn(3, "2023-05-01"),
            ),
            PROFILING,
            "2023-06-01",
            (True, t("2023-05-01"), t("2023-05-31"), FROM_WITHDRAWAL),
            id="the-later-consents-end-counts",
        ),
        pytest.param(
            (granted(1, "2023-01-10", expires="2023-03-01"), granted(2, "2023-04-01")),
            PROFILING,
            "2030-01-01",
            (False, None, None, ACTIVE),
            id="a-consent-given-again-without-expiry-keeps-them",
        ),
        pytest.param(
            (
                granted(1, "2023-01-10"),
                withdrawn(2, "2023-06-01"),
                granted(3, "2023-06-15", purpose="marketing"),
            ),
            PROFILING,
            "2023-07-01",
            (True, t("2023-06-01"), t("2023-07-01"), FROM_WITHDRAWAL),
            id="another-purposes-consent-does-not-keep-profiles",
        ),
        pytest.param(
            (
                granted(1, "2023-01-10"),
                withdrawn(2, "2023-06-01"),
                granted(3, "2023-06-15", purpose="marketing"),
            ),
            Consents(),
            "2023-07-01",
            (False, None, None, ACTIVE),
            id="without-known-purposes-every-consent-counts",
        ),
        pytest.param(
            (granted(1, "2023-01-10"), withdrawn(2, "2023-06-01", purpose="marketing")),
            PROFILING,
            "2030-01-01",
            (False, None, None, ACTIVE),
            id="another-purposes-withdrawal-does-not-end-it",
        ),
        pytest.param(
            (granted(1, "2023-01-10", purpose="marketing"), objected(2, "2023-06-01")),
            MARKETING,
            "2023-07-01",
            (True, t("2023-06-01"), t("2023-07-01"), FROM_OBJECTION),
            id="an-objection-to-direct-marketing-ends-the-consent",
        ),
        pytest.param(
            (granted(1, "2023-01-10", purpose="marketing"), objected(2, "2023-06-01")),
            Consents(purposes={"marketing"}),
            "2030-01-01",
            (False, None, None, ACTIVE),
            id="an-objection-ends-only-a-direct-marketing-consent",
        ),
    ],
)
def test_profiles_are_kept_30_days_from_the_end_of_the_consent_they_rest_on(
    notice: NoticeVersion,
    facts: tuple[Fact, ...],
    consents: Consents,
    at: str,
    expected: tuple[bool, datetime | None, datetime | None, str],
) -> None:
    rule = notice.index.retention["profiles"]

    found = status(rule, last_recorded=t("2023-02-01"), facts=facts, at=t(at), consents=consents)

    due, since, until, reason = expected
    assert found == Status("profiles", due, False, since, until, reason)


def rule(period: str, *, end_of_year: bool) -> RetentionRule:
    return RetentionRule(
        category="billing", period=period, starts="contract_ended", end_of_year=end_of_year,
        statement="x",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("period", "end_of_year", "start", "end"),
    [
        pytest.param(
            "P10Y",
            True,
            "2024-01-01T00:30+02:00",
            "2035-01-01T00:00+02:00",
            id="new-years-night-in-helsinki-is-the-new-year",
        ),
        pytest.param(
            "P10Y",
            True,
            "2023-12-31T23:30+02:00",
            "2034-01-01T00:00+02:00",
            id="new-years-eve-in-helsinki-is-the-old-year",
        ),
        pytest.param(
            "P6Y",
            True,
            "2023-06-15T12:00Z",
            "2030-01-01T00:00+02:00",
            id="a-summer-start-ends-at-helsinki-midnight-in-winter-time",
        ),
        pytest.param(
            "P6M",
            True,
            "2023-06-15T12:00Z",
            "2024-07-01T00:00+03:00",
            id="a-period-ending-in-summer-ends-at-helsinki-midnight-in-summer-time",
        ),
        pytest.param(
            "P13M",
            False,
            "2023-03-15T08:00Z",
            "2024-04-15T08:00Z",
            id="without-year-end-the-period-runs-from-the-instant",
        ),
    ],
)
def test_a_retention_period_to_the_end_of_the_year_ends_at_midnight_in_helsinki(
    period: str, end_of_year: bool, start: str, end: str
) -> None:
    found = retention_end(rule(period, end_of_year=end_of_year), t(start))

    assert found == t(end)
    assert found.tzinfo is UTC


def test_billing_of_a_contract_ended_on_new_years_night_is_held_a_year_longer(
    notice: NoticeVersion,
) -> None:
    facts = (
        fact(1, "ContractStarted", "2020-01-01", controller=SELLER, contract="k-1"),
        fact(2, "ContractEnded", "2024-01-01T00:30+02:00", controller=SELLER, contract="k-1"),
    )

    found = status(
        notice.index.retention["billing"], last_recorded=None, facts=facts, at=t("2034-06-01")
    )

    assert (found.held, found.until) == (True, datetime(2035, 1, 1, tzinfo=HELSINKI))
