"""Lawful-basis intervals of ledger.domain.basis from plain facts (no store)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.domain.basis import (
    Fact,
    Interval,
    add_period,
    basis_intervals,
    retention_end,
)
from ledger.domain.register import NoticeVersion

MakeNotice = Callable[..., NoticeVersion]
Summary = tuple[str, datetime, datetime | None, list[tuple[int, str]]]

SELLER = "0209628-8"
NETWORK = "1993667-7"


def t(text: str) -> datetime:
    """An instant in UTC: ``t("2023-05-10T12:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fact(position: int, kind: str, when: str, **values: Any) -> Fact:
    occurred_at = t(when)
    recorded_at = t(values.pop("recorded", when))
    return Fact(position, kind, occurred_at, recorded_at, **values)


def granted(position: int, when: str, purpose: str = "marketing", **values: Any) -> Fact:
    return fact(position, "ConsentGranted", when, purpose=purpose, **values)


def withdrawn(position: int, when: str, purpose: str = "marketing", **values: Any) -> Fact:
    return fact(position, "ConsentWithdrawn", when, purpose=purpose, **values)


def objected(position: int, when: str, purpose: str = "marketing") -> Fact:
    return fact(position, "ObjectionRecorded", when, purpose=purpose)


def started(position: int, when: str, contract: str = "k-1", controller: str = SELLER) -> Fact:
    return fact(position, "ContractStarted", when, controller=controller, contract=contract)


def ended(position: int, when: str, contract: str = "k-1", controller: str = SELLER) -> Fact:
    return fact(position, "ContractEnded", when, controller=controller, contract=contract)


def summary(intervals: Sequence[Interval]) -> list[Summary]:
    return [
        (i.basis, i.since, i.until, [(e.position, e.type) for e in i.evidence]) for i in intervals
    ]


GRANT = (1, "ConsentGranted")
START = (1, "ContractStarted")


@pytest.mark.parametrize(
    ("purpose", "facts", "expected"),
    [
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10")],
            [("consent", t("2023-01-10"), None, [GRANT])],
            id="consent-granted-holds-open",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), withdrawn(2, "2023-03-01")],
            [("consent", t("2023-01-10"), t("2023-03-01"), [GRANT, (2, "ConsentWithdrawn")])],
            id="consent-withdrawn",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10", expires_at=t("2023-02-01"))],
            [("consent", t("2023-01-10"), t("2023-02-01"), [GRANT])],
            id="consent-expired",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10", expires_at=t("2023-02-01")), withdrawn(2, "2023-03-01")],
            [("consent", t("2023-01-10"), t("2023-02-01"), [GRANT])],
            id="expiry-before-withdrawal-wins",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10", expires_at=t("2023-04-01")), withdrawn(2, "2023-03-01")],
            [("consent", t("2023-01-10"), t("2023-03-01"), [GRANT, (2, "ConsentWithdrawn")])],
            id="withdrawal-before-expiry-wins",
        ),
        pytest.param(
            "marketing",
            [withdrawn(1, "2023-01-01"), granted(2, "2023-01-10")],
            [("consent", t("2023-01-10"), None, [(2, "ConsentGranted")])],
            id="earlier-withdrawal-does-not-end-a-later-grant",
        ),
        pytest.param(
            "marketing",
            [withdrawn(2, "2023-03-01"), granted(1, "2023-01-10")],
            [("consent", t("2023-01-10"), t("2023-03-01"), [GRANT, (2, "ConsentWithdrawn")])],
            id="facts-given-out-of-order",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), withdrawn(2, "2023-03-01", purpose="development")],
            [("consent", t("2023-01-10"), None, [GRANT])],
            id="withdrawal-for-another-purpose",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), withdrawn(2, "2023-01-10")],
            [],
            id="withdrawn-at-the-instant-of-grant-leaves-nothing",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), withdrawn(2, "2023-03-01"), granted(3, "2023-05-01")],
            [
                ("consent", t("2023-01-10"), t("2023-03-01"), [GRANT, (2, "ConsentWithdrawn")]),
                ("consent", t("2023-05-01"), None, [(3, "ConsentGranted")]),
            ],
            id="consent-given-again-after-withdrawal",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), objected(2, "2023-03-01")],
            [("consent", t("2023-01-10"), t("2023-03-01"), [GRANT, (2, "ObjectionRecorded")])],
            id="objection-ends-direct-marketing-consent",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), objected(2, "2023-01-10")],
            [],
            id="objection-at-the-instant-of-grant-leaves-nothing",
        ),
        pytest.param(
            "marketing",
            [granted(1, "2023-01-10"), objected(2, "2023-03-01"), granted(3, "2023-05-01")],
            [
                ("consent", t("2023-01-10"), t("2023-03-01"), [GRANT, (2, "ObjectionRecorded")]),
                ("consent", t("2023-05-01"), None, [(3, "ConsentGranted")]),
            ],
            id="consent-after-objection-starts-a-new-interval",
        ),
        pytest.param(
            "development",
            [
                granted(1, "2023-01-10", purpose="development"),
                objected(2, "2023-03-01", "development"),
            ],
            [("consent", t("2023-01-10"), None, [GRANT])],
            id="objection-to-a-purpose-that-is-not-direct-marketing-leaves-consent",
        ),
        pytest.param(
            "billing",
            [granted(1, "2023-01-10", purpose="billing")],
            [],
            id="consent-to-a-purpose-not-resting-on-consent",
        ),
        pytest.param(
            "profiling",
            [started(1, "2022-01-01")],
            [],
            id="contract-for-a-consent-only-purpose",
        ),
        pytest.param(
            "customer_relationship",
            [started(1, "2022-01-01")],
            [("contract", t("2022-01-01"), None, [START])],
            id="contract-running",
        ),
        pytest.param(
            "customer_relationship",
            [started(1, "2022-01-01"), ended(2, "2023-05-10T12:00")],
            [("contract", t("2022-01-01"), t("2023-05-10T12:00"), [START, (2, "ContractEnded")])],
            id="contract-ended-without-legal-obligation-for-the-purpose",
        ),
        pytest.param(
            "customer_relationship",
            [started(1, "2020-01-01")],
            [("contract", t("2021-06-02T21:00"), None, [START])],
            id="nothing-holds-before-the-first-notice-took-effect",
        ),
        pytest.param(
            "customer_relationship",
            [ended(1, "2023-05-10")],
            [],
            id="contract-ended-without-a-start-is-ignored",
        ),
        pytest.param(
            "customer_relationship",
            [started(1, "2022-01-01"), started(2, "2022-02-01"), ended(3, "2023-01-01")],
            [("contract", t("2022-01-01"), t("2023-01-01"), [START, (3, "ContractEnded")])],
            id="second-start-of-a-running-contract-is-ignored",
        ),
        pytest.param(
            "customer_relationship",
            [
                started(1, "2022-01-01", "k-1"),
                started(2, "2022-06-01", "k-2", NETWORK),
                ended(3, "2023-01-01", "k-1"),
                ended(4, "2023-06-01", "k-2", NETWORK),
            ],
            [("contract", t("2022-01-01"), t("2023-01-01"), [START, (3, "ContractEnded")])],
            id="the-network-companys-contract-is-no-basis-for-the-retailer",
        ),
        pytest.param(
            "customer_relationship",
            [
                started(1, "2022-01-01", "k-1"),
                ended(2, "2023-01-01", "k-1"),
                started(3, "2023-01-01", "k-2"),
            ],
            [
                (
                    "contract",
                    t("2022-01-01"),
                    None,
                    [START, (2, "ContractEnded"), (3, "ContractStarted")],
                )
            ],
            id="touching-contracts-merge-and-stay-open",
        ),
        pytest.param(
            "customer_relationship",
            [
                started(1, "2021-07-01", "k-1"),
                ended(2, "2021-12-01", "k-1"),
                started(3, "2022-01-01", "k-2"),
            ],
            [
                ("contract", t("2021-07-01"), t("2021-12-01"), [START, (2, "ContractEnded")]),
                ("contract", t("2022-01-01"), None, [(3, "ContractStarted")]),
            ],
            id="contracts-with-a-gap-stay-apart",
        ),
        pytest.param(
            "billing",
            [started(1, "2022-01-01"), ended(2, "2023-05-10T12:00")],
            [
                ("contract", t("2022-01-01"), t("2023-05-10T12:00"), [START, (2, "ContractEnded")]),
                (
                    "legal_obligation",
                    t("2023-05-10T12:00"),
                    t("2033-12-31T22:00"),  # midnight in Helsinki
                    [(2, "ContractEnded")],
                ),
            ],
            id="billing-kept-10-years-from-the-end-of-the-year-the-contract-ended",
        ),
        pytest.param(
            "billing",
            [started(1, "2022-01-01")],
            [("contract", t("2022-01-01"), None, [START])],
            id="no-legal-obligation-while-the-contract-runs",
        ),
        pytest.param(
            "marketing",
            [started(1, "2022-01-01"), objected(2, "2023-03-01")],
            [("contract", t("2022-01-01"), t("2023-03-01"), [START, (2, "ObjectionRecorded")])],
            id="objection-cuts-the-marketing-contract-basis",
        ),
        pytest.param(
            "marketing",
            [objected(1, "2022-01-01"), started(2, "2023-01-01")],
            [],
            id="a-contract-after-an-objection-never-carries-marketing",
        ),
        pytest.param(
            "marketing",
            [started(1, "2022-01-01"), ended(2, "2022-06-01"), objected(3, "2023-01-01")],
            [("contract", t("2022-01-01"), t("2022-06-01"), [START, (2, "ContractEnded")])],
            id="a-contract-that-ended-before-the-objection-is-untouched",
        ),
        pytest.param(
            "marketing",
            [started(1, "2023-01-10"), granted(2, "2023-01-10")],
            [
                ("consent", t("2023-01-10"), None, [(2, "ConsentGranted")]),
                ("contract", t("2023-01-10"), None, [START]),
            ],
            id="intervals-ordered-by-start-then-basis",
        ),
    ],
)
def test_basis_intervals_follow_the_subjects_facts_under_one_notice(
    notice: NoticeVersion, purpose: str, facts: list[Fact], expected: list[Summary]
) -> None:
    assert summary(basis_intervals(facts, [notice], purpose, SELLER)) == expected


def test_consent_withdrawn_ends_the_consent_interval_at_withdrawal(
    notice: NoticeVersion,
) -> None:
    facts = [granted(1, "2023-01-10"), withdrawn(2, "2023-03-01")]

    [interval] = basis_intervals(facts, [notice], "marketing")

    assert interval.holds_at(t("2023-02-28T23:59"))
    assert not interval.holds_at(t("2023-03-01"))


def with_newsletter(raw: dict[str, Any]) -> None:
    raw["purposes"].append(
        {"id": "newsletter", "description": "The monthly newsletter.", "bases": ["consent"]}
    )


def profiling_on_legitimate_interests(raw: dict[str, Any]) -> None:
    for purpose in raw["purposes"]:
        if purpose["id"] == "profiling":
            purpose["bases"] = ["legitimate_interests"]


def no_statutory_retention(raw: dict[str, Any]) -> None:
    for rule in raw["retention"]:
        rule.pop("legal_reference", None)


def test_consent_holds_only_from_the_notice_that_lists_the_purpose(
    notice: NoticeVersion, make_notice: MakeNotice
) -> None:
    v2 = make_notice("2023", t("2023-01-01"), with_newsletter)

    intervals = basis_intervals(
        [granted(1, "2022-06-01", "newsletter")], [notice, v2], "newsletter", SELLER
    )

    assert summary(intervals) == [("consent", t("2023-01-01"), None, [GRANT])]


def test_a_notice_that_stops_allowing_consent_ends_the_interval_and_a_later_one_resumes_it(
    notice: NoticeVersion, make_notice: MakeNotice
) -> None:
    v2 = make_notice("2023", t("2023-01-01"), profiling_on_legitimate_interests)
    v3 = make_notice("2024", t("2024-01-01"))

    intervals = basis_intervals(
        [granted(1, "2022-06-01", "profiling")], [notice, v2, v3], "profiling"
    )

    assert summary(intervals) == [
        ("consent", t("2022-06-01"), t("2023-01-01"), [GRANT]),
        ("consent", t("2024-01-01"), None, [GRANT]),
    ]


def test_consecutive_notices_that_allow_consent_give_one_unbroken_interval(
    notice: NoticeVersion, make_notice: MakeNotice
) -> None:
    v2 = make_notice("2023", t("2023-01-01"))

    intervals = basis_intervals([granted(1, "2022-06-01")], [notice, v2], "marketing")

    assert summary(intervals) == [("consent", t("2022-06-01"), None, [GRANT])]


@pytest.mark.parametrize(
    ("contract_end", "expected"),
    [
        pytest.param(
            "2022-05-10",
            [("legal_obligation", t("2022-05-10"), t("2032-12-31T22:00"), [(2, "ContractEnded")])],
            id="ended-under-the-notice-with-statutory-rules",
        ),
        pytest.param("2023-05-10", [], id="ended-under-a-notice-without-statutory-rules"),
    ],
)
def test_legal_obligation_follows_the_retention_rules_in_force_when_the_contract_ends(
    notice: NoticeVersion, make_notice: MakeNotice, contract_end: str, expected: list[Summary]
) -> None:
    v2 = make_notice("2023", t("2023-01-01"), no_statutory_retention)
    facts = [started(1, "2021-07-01"), ended(2, contract_end)]

    intervals = basis_intervals(facts, [notice, v2], "billing")

    assert summary([i for i in intervals if i.basis == "legal_obligation"]) == expected


@pytest.mark.parametrize(
    ("known_at", "expected_until"),
    [
        pytest.param("2023-04-01", None, id="before-the-withdrawal-was-recorded"),
        pytest.param("2023-04-15", t("2023-03-01"), id="once-the-withdrawal-was-recorded"),
    ],
)
def test_a_late_recorded_withdrawal_ends_consent_only_in_what_is_known_after_it(
    notice: NoticeVersion, known_at: str, expected_until: datetime | None
) -> None:
    facts = [granted(1, "2023-01-10"), withdrawn(2, "2023-03-01", recorded="2023-04-15")]
    known = [f for f in facts if f.recorded_at <= t(known_at)]  # what the view passes

    [interval] = basis_intervals(known, [notice], "marketing")

    assert interval.since == t("2023-01-10")
    assert interval.until == expected_until


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param("2023-01-09T23:59", False, id="before-since"),
        pytest.param("2023-01-10", True, id="at-since"),
        pytest.param("2023-02-28T23:59", True, id="inside"),
        pytest.param("2023-03-01", False, id="at-until"),
    ],
)
def test_an_interval_holds_from_since_up_to_but_not_at_until(instant: str, expected: bool) -> None:
    interval = Interval("consent", t("2023-01-10"), t("2023-03-01"))

    assert interval.holds_at(t(instant)) is expected


def test_an_open_interval_holds_ever_after() -> None:
    assert Interval("contract", t("2023-01-10"), None).holds_at(t("2999-01-01"))


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        pytest.param("2024-02-29", (1, 0, 0), "2025-02-28", id="29-february-plus-a-year"),
        pytest.param("2023-01-31", (0, 1, 0), "2023-02-28", id="31-january-plus-a-month"),
        pytest.param("2024-01-31", (0, 1, 0), "2024-02-29", id="into-a-leap-february"),
        pytest.param("2023-11-15", (0, 3, 0), "2024-02-15", id="months-across-new-year"),
        pytest.param("2023-11-15", (1, 14, 0), "2026-01-15", id="more-than-12-months"),
        pytest.param("2023-12-31", (0, 0, 1), "2024-01-01", id="one-day"),
        pytest.param("2024-01-31", (0, 1, 1), "2024-03-01", id="month-then-days"),
        pytest.param("2023-05-10T12:30", (0, 0, 30), "2023-06-09T12:30", id="keeps-the-time"),
    ],
)
def test_a_calendar_period_is_added_clamping_to_the_end_of_the_month(
    start: str, period: tuple[int, int, int], expected: str
) -> None:
    assert add_period(t(start), *period) == t(expected)


def test_adding_a_period_keeps_the_offset() -> None:
    helsinki = datetime.fromisoformat("2023-05-10T12:00:00+03:00")

    moved = add_period(helsinki, 1, 0, 0)

    assert moved.isoformat() == "2024-05-10T12:00:00+03:00"


@pytest.mark.parametrize(
    ("category", "start", "expected"),
    [
        pytest.param(
            "billing", "2023-05-10T12:00", "2033-12-31T22:00", id="10-years-from-end-of-year"
        ),
        pytest.param(
            "customer_basic", "2023-01-01", "2026-12-31T22:00", id="3-years-from-end-of-year"
        ),
        pytest.param("cookies", "2023-03-15T08:00", "2024-04-15T08:00", id="13-months"),
        pytest.param("profiles", "2023-06-01", "2023-07-01", id="30-days"),
        pytest.param(
            "customer_basic",
            "2023-12-31T22:30",
            "2027-12-31T22:00",
            id="end-of-year-is-helsinki-s-year-even-when-utc-is-still-in-the-last",
        ),
    ],
)
def test_a_retention_period_ends_after_its_period_counted_from_its_start(
    notice: NoticeVersion, category: str, start: str, expected: str
) -> None:
    rule = notice.index.retention[category]

    assert retention_end(rule, t(start)) == t(expected)


def test_a_period_is_counted_from_the_instants_year_in_helsinki_at_end_of_year(
    notice: NoticeVersion,
) -> None:
    rule = notice.index.retention["billing"]
    start = datetime.fromisoformat("2024-01-01T00:30:00+02:00")  # 2023-12-31T22:30Z

    assert retention_end(rule, start) == t("2034-12-31T22:00")
    assert retention_end(rule, start - timedelta(hours=1)) == t("2033-12-31T22:00")


# --- issue 12: joint controllers, stops, erasure ----------------------------------------


def erased(position: int, when: str) -> Fact:
    """An erasure request of the whole subject (SubjectErased, scope subject)."""
    return fact(position, "SubjectErased", when)


def by_controller(intervals: Sequence[Interval]) -> list[tuple[str | None, str, datetime | None]]:
    return [(i.controller, i.basis, i.until) for i in intervals]


@pytest.mark.parametrize(
    ("purpose", "controller", "facts", "expected"),
    [
        pytest.param(
            "marketing", None, [started(1, "2022-01-01", controller=NETWORK)], [],
            id="a-network-contract-is-no-basis-for-the-retailers-marketing",
        ),
        pytest.param(
            "customer_relationship", SELLER, [started(1, "2022-01-01", controller=NETWORK)], [],
            id="a-network-contract-is-no-basis-for-the-retailers-customer-relationship",
        ),
        pytest.param(
            "billing", None, [started(1, "2022-01-01", controller=NETWORK)],
            [(NETWORK, "contract", None)],
            id="a-shared-purpose-answers-for-the-contract-party-only",
        ),
        pytest.param(
            "development", SELLER, [granted(1, "2022-01-01", "development", controller=NETWORK)],
            [], id="a-consent-given-to-one-controller-is-not-the-others",
        ),
        pytest.param(
            "development", None, [granted(1, "2022-01-01", "development")],
            [(SELLER, "consent", None), (NETWORK, "consent", None)],
            id="a-consent-without-controller-is-given-to-every-controller-of-the-purpose",
        ),
        pytest.param(
            "profiling", None,
            [granted(1, "2022-01-01", "profiling"), objected(2, "2022-03-01", "profiling")],
            [(SELLER, "consent", t("2022-03-01"))],
            id="an-objection-to-profiling-related-to-marketing-ends-it",
        ),
        pytest.param(
            "profiling", None, [granted(1, "2022-01-01", "profiling"), objected(2, "2022-03-01")],
            [(SELLER, "consent", t("2022-03-01"))],
            id="an-objection-to-marketing-ends-profiling-related-to-it",
        ),
        pytest.param(
            "marketing", None,
            [started(1, "2022-01-01"), granted(2, "2022-01-01"), withdrawn(3, "2022-03-01")],
            [(SELLER, "consent", t("2022-03-01")), (SELLER, "contract", t("2022-03-01"))],
            id="withdrawing-marketing-consent-objects-to-marketing-on-contract-too",
        ),
        pytest.param(
            "profiling", None, [granted(1, "2022-01-01", "profiling"), withdrawn(2, "2022-03-01")],
            [(SELLER, "consent", t("2022-03-01"))],
            id="withdrawing-marketing-consent-ends-profiling-related-to-it",
        ),
        pytest.param(
            "development", SELLER,
            [started(1, "2022-01-01"), granted(2, "2022-01-01", "development"),
             withdrawn(3, "2022-03-01", "development")],
            [(SELLER, "consent", t("2022-03-01")), (SELLER, "contract", None)],
            id="withdrawing-a-consent-that-is-not-direct-marketing-leaves-the-contract",
        ),
        pytest.param(
            "marketing", None, [granted(1, "2022-01-01"), erased(2, "2022-06-01")],
            [(SELLER, "consent", t("2022-06-01"))],
            id="an-erasure-request-ends-consent",
        ),
        pytest.param(
            "development", None, [granted(1, "2022-01-01", "development"), erased(2, "2022-06-01")],
            [(SELLER, "consent", t("2022-06-01")), (NETWORK, "consent", t("2022-06-01"))],
            id="an-erasure-request-ends-consent-to-a-purpose-that-is-not-marketing",
        ),
        pytest.param(
            "marketing", None, [started(1, "2022-01-01"), erased(2, "2022-06-01")],
            [(SELLER, "contract", t("2022-06-01"))],
            id="an-erasure-request-ends-direct-marketing-on-contract",
        ),
        pytest.param(
            "billing", SELLER,
            [started(1, "2022-01-01"), ended(2, "2022-05-01"), erased(3, "2022-06-01")],
            [
                (SELLER, "contract", t("2022-05-01")),
                (SELLER, "legal_obligation", t("2032-12-31T22:00")),
            ],
            id="an-erasure-request-leaves-the-legal-obligation",
        ),
        pytest.param(
            "marketing", None,
            [granted(1, "2022-01-01"), erased(2, "2022-06-01"), granted(3, "2022-09-01")],
            [(SELLER, "consent", t("2022-06-01")), (SELLER, "consent", None)],
            id="a-consent-after-the-erasure-request-starts-a-new-interval",
        ),
    ],
)  # fmt: skip
def test_bases_are_per_controller_and_end_at_objections_withdrawals_and_erasure(
    notice: NoticeVersion,
    purpose: str,
    controller: str | None,
    facts: list[Fact],
    expected: list[tuple[str | None, str, datetime | None]],
) -> None:
    assert by_controller(basis_intervals(facts, [notice], purpose, controller)) == expected


@pytest.mark.parametrize(
    ("facts", "ended_by"),
    [
        ([granted(1, "2022-01-01"), withdrawn(2, "2022-03-01")], [(2, "ConsentWithdrawn")]),
        ([started(1, "2022-01-01"), objected(2, "2022-03-01")], [(2, "ObjectionRecorded")]),
        ([granted(1, "2022-01-01"), erased(2, "2022-03-01")], [(2, "SubjectErased")]),
        ([started(1, "2022-01-01"), ended(2, "2022-03-01")], [(2, "ContractEnded")]),
        ([granted(1, "2022-01-01", expires_at=t("2022-03-01"))], [None]),
    ],
)
def test_each_interval_names_the_event_that_ended_it(
    notice: NoticeVersion, facts: list[Fact], ended_by: list[tuple[int, str] | None]
) -> None:
    intervals = basis_intervals(facts, [notice], "marketing", SELLER)

    assert [
        None if i.ended_by is None else (i.ended_by.position, i.ended_by.type) for i in intervals
    ] == ended_by
