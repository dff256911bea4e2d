"""Findings follow late facts: a fact recorded after uses it makes unlawful re-judges them.

A withdrawal, objection, contract end or restriction whose ``occurred_at`` lies
before uses already judged (stored, or earlier in the same batch) makes those uses
be judged again; each new finding is a ``FindingRecorded`` after the late fact that
names the use it revises and the late fact. ``findings`` tells what is known now,
the findings recorded by an instant what was known then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.appending.judging import finding_data
from ledger.appending.outcomes import AppendResult
from ledger.bootstrap import Core
from ledger.cli import run_captured
from ledger.clock import FixedClock
from ledger.domain.findings import Finding
from ledger.persistence.keys import MasterKeySource
from projections.findings.view import list_findings
from schemas import events as ev
from tests import factories as f


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    """C-1 consents to marketing in 2022 (no contract): marketing rests on that consent."""
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.recipient_registered("mailer", occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2022-01-01T00:00:00Z"),
    )  # fmt: skip
    return ledger


def marketing_disclosure(at: str) -> dict[str, object]:
    line = f.disclosed("C-1", recipient="mailer", occurred_at=at)
    line["data"]["purpose"] = "marketing"
    line["data"]["categories"] = ["customer_basic"]
    return line


def rules(result: AppendResult) -> list[tuple[int, str, str]]:
    return [(x["line"], x["type"], x["rule"]) for x in result.findings]


def test_a_withdrawal_recorded_late_flags_the_disclosure_made_after_it(customer: Ledger) -> None:
    assert f.append(customer, marketing_disclosure("2022-06-01T00:00:00Z")).findings == ()
    result = f.append(customer, f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"))
    assert rules(result) == [(1, "DataDisclosed", "no_lawful_basis")]
    events = customer.stream(customer.subject_id("C-1"))
    assert [e.type for e in events[-3:]] == ["DataDisclosed", "ConsentWithdrawn", "FindingRecorded"]
    finding = events[-1].data
    disclosure, withdrawal = events[-3], events[-2]
    assert finding.revises == disclosure.originator_version
    assert finding.event.version == disclosure.originator_version
    assert finding.because is not None
    assert (finding.because.version, finding.because.type) == (
        withdrawal.originator_version,
        "ConsentWithdrawn",
    )
    assert finding.recipient == "mailer"
    assert "judged again" in finding.message


def test_a_use_before_the_late_fact_stays_without_a_finding(customer: Ledger) -> None:
    f.append(customer, marketing_disclosure("2022-02-01T00:00:00Z"))
    result = f.append(customer, f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"))
    assert result.findings == ()


def test_a_late_fact_that_changes_nothing_adds_no_finding(customer: Ledger) -> None:
    f.append(customer, marketing_disclosure("2022-06-01T00:00:00Z"))
    withdrawn = f.consent_withdrawn(
        "C-1", purpose="development", occurred_at="2022-03-01T00:00:00Z"
    )
    assert f.append(customer, withdrawn).findings == ()


def test_a_use_already_flagged_for_the_same_rule_is_not_flagged_again(customer: Ledger) -> None:
    f.append(customer, f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"))
    flagged = f.append(customer, marketing_disclosure("2022-06-01T00:00:00Z"))
    assert rules(flagged) == [(1, "DataDisclosed", "no_lawful_basis")]
    late = f.append(customer, f.objection("C-1", occurred_at="2022-02-01T00:00:00Z"))
    assert late.findings == ()


def test_a_late_objection_flags_processing_and_profiling_after_it(customer: Ledger) -> None:
    f.append(
        customer,
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck"}, category="cookies", source="cookies",
                        occurred_at="2022-01-01T00:00:00Z"),
        f.personal_data("C-1", {"usage": "evenings"}, category="web_logs", source="web_services",
                        occurred_at="2022-01-01T00:00:00Z"),
        f.processed("C-1", occurred_at="2022-05-01T00:00:00Z"),
        f.profile_derived("C-1", occurred_at="2022-05-02T00:00:00Z"),
    )  # fmt: skip
    result = f.append(customer, f.objection("C-1", occurred_at="2022-04-01T00:00:00Z"))
    assert rules(result) == [
        (1, "DataProcessed", "no_lawful_basis"),
        (1, "ProfileDerived", "processing_without_consent"),
    ]


def test_a_late_restriction_flags_the_use_after_it(customer: Ledger) -> None:
    f.append(customer, f.processed("C-1", occurred_at="2022-05-01T00:00:00Z"))
    result = f.append(customer, f.restricted("C-1", occurred_at="2022-04-01T00:00:00Z"))
    assert rules(result) == [(1, "DataProcessed", "processing_while_restricted")]


def test_a_late_contract_end_flags_a_use_that_rested_on_the_contract(ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-2", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-2", occurred_at="2021-08-01T00:00:00Z"),
        f.processed("C-2", purpose="service_delivery", controller=f.RETAIL,
                    occurred_at="2022-05-01T00:00:00Z"),
    )  # fmt: skip
    ended = f.contract_ended("C-2", occurred_at="2022-01-01T00:00:00Z")
    assert rules(f.append(ledger, ended)) == [(1, "DataProcessed", "no_lawful_basis")]


def test_a_late_fact_later_in_the_same_batch_revises_a_use_earlier_in_it(customer: Ledger) -> None:
    result = f.append(
        customer,
        marketing_disclosure("2022-06-01T00:00:00Z"),
        f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"),
    )
    assert rules(result) == [(2, "DataDisclosed", "no_lawful_basis")]
    events = customer.stream(customer.subject_id("C-1"))
    assert [e.type for e in events[-3:]] == ["DataDisclosed", "ConsentWithdrawn", "FindingRecorded"]
    assert result.findings[0]["revises"] == events[-3].originator_version
    assert result.findings[0]["because"] == "ConsentWithdrawn"


def test_findings_now_and_known_at_tell_apart_what_was_known_then(
    core: Core, customer: Ledger, clock: FixedClock
) -> None:
    f.append(customer, marketing_disclosure("2022-06-01T00:00:00Z"))
    before = clock.now()
    clock.advance(timedelta(days=30))
    f.append(customer, f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"))
    views = core.views()
    now = views.findings(since=None).findings
    assert [(x.rule, x.event.type) for x in now] == [("no_lawful_basis", "DataDisclosed")]
    assert now[0].recorded_at == clock.now()

    def known_at(at: datetime) -> list[str]:
        found = list_findings(
            views.store, customer.ledger_recorder.select_refs, customer.leaf_hashes, None, at
        )
        return [x.rule for x in found]

    assert known_at(before) == []
    assert known_at(clock.now()) == ["no_lawful_basis"]


def test_a_revising_finding_is_listed_with_the_use_and_the_late_fact_as_evidence(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, marketing_disclosure("2022-06-01T00:00:00Z"))
    f.append(customer, f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"))
    (finding,) = core.views().findings(since=None).findings
    assert finding.event.type == "DataDisclosed"
    assert finding.occurred_at.isoformat().startswith("2022-06-01")
    assert "ConsentWithdrawn" in [e.type for e in finding.evidence]


def test_the_findings_command_known_at_shows_what_was_known_before_the_late_fact(
    store_url: str,
    key_source: MasterKeySource,
    customer: Ledger,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    f.append(customer, marketing_disclosure("2022-06-01T00:00:00Z"))
    before = clock.now()
    clock.advance(timedelta(days=30))
    f.append(customer, f.consent_withdrawn("C-1", occurred_at="2022-03-01T00:00:00Z"))
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(key_source.path))

    def findings(*extra: str) -> list[tuple[str, str]]:
        code, out, err = run_captured(["findings", "--store", store_url, "--json", *extra])
        assert (code, err) == (0, "")
        return [(x["rule"], x["event"]["type"]) for x in orjson.loads(out)["findings"]]

    assert findings() == [("no_lawful_basis", "DataDisclosed")]
    assert findings("--known-at", before.isoformat()) == []
    assert findings("--known-at", clock.now().isoformat()) == findings()


def test_a_finding_judged_when_appended_stores_no_revision_fields() -> None:
    finding = Finding("no_lawful_basis", "no lawful basis", purpose="marketing")
    plain = finding_data(finding, "DataDisclosed", 3).model_dump(mode="json")
    assert "revises" not in plain
    assert "because" not in plain
    because = ev.FindingEvidence(version=5, type="ConsentWithdrawn")
    revised = finding_data(finding, "DataDisclosed", 3, because).model_dump(mode="json")
    assert (revised["revises"], revised["because"]) == (
        3,
        {"version": 5, "type": "ConsentWithdrawn"},
    )


@pytest.fixture
def stranger(ledger: Ledger) -> Ledger:
    """C-3 has no consent and no contract: a marketing disclosure to mailer is flagged."""
    f.append(
        ledger,
        f.subject_registered("C-3", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-3", occurred_at="2021-07-01T00:00:00Z"),
        f.recipient_registered("mailer", occurred_at="2021-07-01T00:00:00Z"),
    )  # fmt: skip
    line = f.disclosed("C-3", recipient="mailer", occurred_at="2022-06-01T00:00:00Z")
    line["data"]["purpose"] = "marketing"
    line["data"]["categories"] = ["customer_basic"]
    assert rules(f.append(ledger, line)) == [(1, "DataDisclosed", "no_lawful_basis")]
    return ledger


def test_a_consent_recorded_late_lifts_the_finding_of_the_disclosure_after_it(
    stranger: Ledger,
) -> None:
    result = f.append(stranger, f.consent_granted("C-3", occurred_at="2022-03-01T00:00:00Z"))
    assert rules(result) == [(1, "DataDisclosed", "finding_lifted")]
    assert "no_lawful_basis" in result.findings[0]["message"]
    events = stranger.stream(stranger.subject_id("C-3"))
    assert [e.type for e in events[-4:]] == [
        "DataDisclosed", "FindingRecorded", "ConsentGranted", "FindingRecorded"
    ]  # fmt: skip
    lift, grant, disclosure = events[-1].data, events[-2], events[-4]
    assert lift.rule == "finding_lifted"
    assert lift.revises == disclosure.originator_version
    assert lift.because is not None
    assert (lift.because.version, lift.because.type) == (grant.originator_version, "ConsentGranted")
    assert "no_lawful_basis" in lift.message


def test_a_consent_granted_after_the_use_lifts_nothing(stranger: Ledger) -> None:
    result = f.append(stranger, f.consent_granted("C-3", occurred_at="2022-07-01T00:00:00Z"))
    assert result.findings == ()


def test_a_late_contract_start_lifts_the_finding_of_a_use_that_rests_on_it(ledger: Ledger) -> None:
    flagged = f.append(
        ledger,
        f.subject_registered("C-2", occurred_at="2021-07-01T00:00:00Z"),
        f.processed("C-2", purpose="service_delivery", controller=f.RETAIL,
                    occurred_at="2022-05-01T00:00:00Z"),
    )  # fmt: skip
    assert rules(flagged) == [(2, "DataProcessed", "no_lawful_basis")]
    started = f.contract_started("C-2", occurred_at="2022-01-01T00:00:00Z")
    assert rules(f.append(ledger, started)) == [(1, "DataProcessed", "finding_lifted")]


def test_a_lifted_finding_is_not_lifted_twice_and_a_late_withdrawal_flags_it_again(
    stranger: Ledger,
) -> None:
    f.append(stranger, f.consent_granted("C-3", occurred_at="2022-03-01T00:00:00Z"))
    again = f.append(stranger, f.consent_granted("C-3", occurred_at="2022-02-01T00:00:00Z"))
    assert again.findings == ()
    withdrawn = f.append(stranger, f.consent_withdrawn("C-3", occurred_at="2022-04-01T00:00:00Z"))
    assert rules(withdrawn) == [(1, "DataDisclosed", "no_lawful_basis")]


def test_findings_now_leave_out_a_lifted_finding_that_known_at_before_the_lift_shows(
    core: Core, stranger: Ledger, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=1))
    before = clock.now()
    clock.advance(timedelta(days=30))
    f.append(stranger, f.consent_granted("C-3", occurred_at="2022-03-01T00:00:00Z"))
    views = core.views()

    def known_at(at: datetime | None) -> list[tuple[str, str]]:
        found = list_findings(
            views.store, stranger.ledger_recorder.select_refs, stranger.leaf_hashes, None, at
        )
        return [(x.rule, x.event.type) for x in found if x.subject == "C-3"]

    now = [(x.rule, x.event.type) for x in views.findings(since=None).findings
           if x.subject == "C-3"]  # fmt: skip
    assert now == [("finding_lifted", "DataDisclosed")]
    assert known_at(None) == now
    assert known_at(clock.now()) == now
    assert known_at(before) == [("no_lawful_basis", "DataDisclosed")]
