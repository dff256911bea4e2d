"""Judging again after a late fact (``judge_again``), from plain values (no store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.domain.basis import Fact, Restriction
from ledger.domain.findings import Finding, Use, judge_again, judge_lifts
from ledger.domain.register import NoticeHistory

RETAIL = "0209628-8"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fact(position: int, kind: str, when: str, **values: Any) -> Fact:
    return Fact(position, kind, t(when), t(when), **values)


def processing(position: int, when: str, purpose: str = "profiling") -> Use:
    return Use(position, "DataProcessed", t(when), purpose, categories=("customer_basic",))


GRANTED = fact(2, "ConsentGranted", "2022-01-01", purpose="profiling")
WITHDRAWN = fact(9, "ConsentWithdrawn", "2022-03-01", purpose="profiling")


def rules(found: list[tuple[Use, Finding]]) -> list[tuple[int, str]]:
    return [(use.position, finding.rule) for use, finding in found]


def again(
    uses: list[Use],
    cause: int,
    since: str,
    facts: list[Fact],
    notices: NoticeHistory,
    *,
    restrictions: tuple[Restriction, ...] = (),
    recorded: frozenset[tuple[int, str]] = frozenset(),
) -> list[tuple[int, str]]:
    found = judge_again(
        uses, cause, t(since), facts=facts, restrictions=restrictions, notices=notices,
        recorded=recorded,
    )  # fmt: skip
    return rules(found)


def test_a_late_withdrawal_flags_only_the_uses_after_it(notices: NoticeHistory) -> None:
    uses = [processing(3, "2022-02-01"), processing(4, "2022-04-01"), processing(5, "2022-05-01")]
    found = again(uses, 9, "2022-03-01", [GRANTED, WITHDRAWN], notices)
    assert found == [(4, "processing_without_consent"), (5, "processing_without_consent")]


def test_a_finding_already_recorded_for_the_use_is_left_out(notices: NoticeHistory) -> None:
    recorded = frozenset({(4, "processing_without_consent")})
    uses = [processing(4, "2022-04-01"), processing(5, "2022-05-01")]
    found = again(uses, 9, "2022-03-01", [GRANTED, WITHDRAWN], notices, recorded=recorded)
    assert found == [(5, "processing_without_consent")]


def test_a_use_unlawful_without_the_late_fact_is_not_blamed_on_it(notices: NoticeHistory) -> None:
    # no consent at all: the late withdrawal changes nothing about the use
    found = again([processing(4, "2022-04-01")], 9, "2022-03-01", [WITHDRAWN], notices)
    assert found == []


def test_a_late_restriction_flags_the_uses_after_it(notices: NoticeHistory) -> None:
    restriction = Restriction(9, "ProcessingRestricted", t("2022-03-01"))
    uses = [processing(3, "2022-02-01"), processing(4, "2022-04-01")]
    found = again(uses, 9, "2022-03-01", [GRANTED], notices, restrictions=(restriction,))
    assert found == [(4, "processing_while_restricted")]


def test_a_disclosure_judged_again_names_its_recipient(notices: NoticeHistory) -> None:
    use = Use(4, "DataDisclosed", t("2022-04-01"), "profiling", categories=("customer_basic",),
              recipient="mailer")  # fmt: skip
    found = judge_again(
        [use], 9, t("2022-03-01"), facts=[GRANTED, WITHDRAWN], restrictions=(),
        notices=notices, recorded=(),
    )  # fmt: skip
    assert [(u.position, x.recipient) for u, x in found] == [(4, "mailer")]


def lifts(
    uses: list[Use],
    cause: int,
    since: str,
    facts: list[Fact],
    notices: NoticeHistory,
    *,
    recorded: frozenset[tuple[int, str]],
) -> list[tuple[int, str, str]]:
    found = judge_lifts(uses, cause, t(since), facts=facts, notices=notices, recorded=recorded)
    return [(use.position, finding.rule, finding.message) for use, finding in found]


def test_a_late_grant_lifts_the_basis_finding_of_a_use_after_it(notices: NoticeHistory) -> None:
    late = fact(9, "ConsentGranted", "2022-03-01", purpose="profiling")
    recorded = frozenset({(4, "processing_without_consent"), (5, "processing_without_consent")})
    uses = [processing(3, "2022-02-01"), processing(4, "2022-04-01"), processing(5, "2022-05-01")]
    found = lifts(uses, 9, "2022-03-01", [late], notices, recorded=recorded)
    assert [(p, rule) for p, rule, _ in found] == [(4, "finding_lifted"), (5, "finding_lifted")]
    assert all("processing_without_consent" in message for _, _, message in found)


def test_a_late_grant_lifts_nothing_not_recorded(notices: NoticeHistory) -> None:
    late = fact(9, "ConsentGranted", "2022-03-01", purpose="profiling")
    assert (
        lifts([processing(4, "2022-04-01")], 9, "2022-03-01", [late], notices, recorded=frozenset())
        == []
    )


def test_a_late_grant_lifts_no_finding_of_a_use_still_unlawful(notices: NoticeHistory) -> None:
    # the consent granted late was withdrawn before the use: it is still unlawful
    late = fact(9, "ConsentGranted", "2022-03-01", purpose="profiling")
    withdrawn = fact(6, "ConsentWithdrawn", "2022-03-15", purpose="profiling")
    recorded = frozenset({(4, "processing_without_consent")})
    found = lifts([processing(4, "2022-04-01")], 9, "2022-03-01", [withdrawn, late], notices,
                  recorded=recorded)  # fmt: skip
    assert found == []


def test_a_late_grant_for_another_purpose_lifts_nothing(notices: NoticeHistory) -> None:
    late = fact(9, "ConsentGranted", "2022-03-01", purpose="marketing")
    recorded = frozenset({(4, "processing_without_consent")})
    found = lifts([processing(4, "2022-04-01")], 9, "2022-03-01", [late], notices,
                  recorded=recorded)  # fmt: skip
    assert found == []
