"""Record, then judge: each finding type is produced, appended, and listed with evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.appending.application import Ledger
from ledger.appending.outcomes import AppendResult
from tests import factories as f


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck"}, category="cookies", source="cookies",
                        occurred_at="2021-08-01T00:00:00Z"),
        f.personal_data("C-1", {"usage": "evenings"}, category="web_logs", source="web_services",
                        occurred_at="2021-08-01T00:00:00Z"),
        f.recipient_registered("mailer", occurred_at="2021-07-01T00:00:00Z"),
    )  # fmt: skip
    return ledger


def rules(result: AppendResult) -> list[tuple[int, str]]:
    return [(x["line"], x["rule"]) for x in result.findings]


def test_a_disclosure_inside_the_agreement_with_a_basis_is_no_finding(customer: Ledger) -> None:
    result = f.append(customer, f.disclosed("C-1", occurred_at="2022-01-01T00:00:00Z"))
    assert result.findings == ()


def test_a_disclosure_for_a_purpose_outside_the_agreement_is_recorded_and_flagged(
    customer: Ledger,
) -> None:
    line = f.disclosed("C-1", recipient="mailer", occurred_at="2022-01-01T00:00:00Z")
    line["data"]["purpose"] = "billing"
    result = f.append(customer, line)
    assert result.appended == 1
    assert rules(result) == [(1, "disclosure_outside_agreement")]
    kinds = [e.type for e in customer.stream(customer.subject_id("C-1"))]
    assert kinds[-2:] == ["DataDisclosed", "FindingRecorded"]


def test_a_disclosure_to_an_ended_recipient_is_flagged(customer: Ledger) -> None:
    ended = f.line("RecipientEnded", None, {"id": "mailer", "reason": "contract terminated"},
                   occurred_at="2022-06-01T00:00:00Z")  # fmt: skip
    f.append(customer, ended)
    before = f.disclosed("C-1", recipient="mailer", occurred_at="2022-05-01T00:00:00Z")
    after = f.disclosed("C-1", recipient="mailer", occurred_at="2022-07-01T00:00:00Z")
    for line in (before, after):
        line["data"]["purpose"] = "marketing"
    assert rules(f.append(customer, before, after)) == [(2, "disclosure_to_ended_recipient")]


def test_a_changed_agreement_applies_from_its_occurred_at(customer: Ledger) -> None:
    changed = f.recipient_registered("mailer", occurred_at="2022-06-01T00:00:00Z",
                                     data={"purposes": ["marketing", "billing"]})  # fmt: skip
    f.append(customer, changed)
    early = f.disclosed("C-1", recipient="mailer", occurred_at="2022-05-01T00:00:00Z")
    late = f.disclosed("C-1", recipient="mailer", occurred_at="2022-07-01T00:00:00Z")
    assert rules(f.append(customer, early, late)) == [(1, "disclosure_outside_agreement")]


def test_a_disclosure_when_the_subject_has_no_basis_is_flagged(customer: Ledger) -> None:
    f.append(customer, f.contract_ended("C-1", occurred_at="2021-12-01T00:00:00Z"))
    line = f.disclosed("C-1", recipient="mailer", occurred_at="2022-01-01T00:00:00Z")
    line["data"]["purpose"] = "marketing"
    assert rules(f.append(customer, line)) == [(1, "no_lawful_basis")]


def test_processing_for_a_consent_only_purpose_without_consent_is_flagged(customer: Ledger) -> None:
    result = f.append(
        customer,
        f.profile_derived("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-02-01T00:00:00Z"),
        f.profile_derived("C-1", occurred_at="2022-03-01T00:00:00Z"),
    )
    assert rules(result) == [(1, "processing_without_consent")]


def test_an_automated_decision_while_the_notice_says_none_is_flagged(customer: Ledger) -> None:
    result = f.append(customer, f.automated_decision("C-1", occurred_at="2022-01-01T00:00:00Z"))
    assert rules(result) == [(1, "automated_decision_not_in_notice")]


def test_findings_are_listed_with_the_events_behind_them(core, customer: Ledger) -> None:
    f.append(customer, f.contract_ended("C-1", occurred_at="2021-12-01T00:00:00Z"))
    line = f.disclosed("C-1", recipient="mailer", occurred_at="2022-01-01T00:00:00Z")
    line["data"]["purpose"] = "marketing"
    f.append(customer, line, f.automated_decision("C-1", occurred_at="2022-01-02T00:00:00Z"))
    answer = core.views().findings(since=None)
    # billing still rests on the Accounting Act after the contract: only the notice is broken
    assert [x.rule for x in answer.findings] == [
        "no_lawful_basis",
        "automated_decision_not_in_notice",
    ]
    first = answer.findings[0]
    assert (first.subject, first.event.type, first.recipient) == ("C-1", "DataDisclosed", "mailer")
    assert [e.type for e in first.evidence] == ["ContractStarted", "ContractEnded"]
    assert all(len(e.hash) == 64 for e in [first.event, *first.evidence])
    later = core.views().findings(since=datetime(2099, 1, 1, tzinfo=UTC))
    assert later.findings == []
