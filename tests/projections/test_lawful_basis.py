"""Basis answers for histories with withdrawals, objections, contracts ending, notice
changes and late-recorded facts, on both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ledger.appending.application import Ledger
from ledger.clock import FixedClock
from projections.queries import Views
from schemas.register import Purpose
from tests import factories as f
from tests.factories import utc


def bases(views: Views, purpose: str, when: str, known_at: datetime | None = None) -> list[str]:
    answer = views.basis("C-1", purpose, at=utc(when), known_at=known_at)
    assert answer.lawful == bool(answer.bases)
    return sorted(b.basis for b in answer.bases)


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
    )
    return ledger


def test_a_consent_holds_from_grant_to_withdrawal(core, customer: Ledger) -> None:
    f.append(
        customer,
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
    )
    views = core.views()
    assert bases(views, "profiling", "2021-12-31T23:59:59") == []
    assert bases(views, "profiling", "2022-01-01T00:00:00") == ["consent"]
    assert bases(views, "profiling", "2022-05-31T23:59:59") == ["consent"]
    assert bases(views, "profiling", "2022-06-01T00:00:00") == []


def test_the_answer_carries_evidence_with_leaf_hashes_and_the_notice(
    core, customer: Ledger
) -> None:
    f.append(
        customer, f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z")
    )
    answer = core.views().basis("C-1", "profiling", at=utc("2022-02-01T00:00:00"), known_at=None)
    (held,) = answer.bases
    (evidence,) = held.evidence
    assert evidence.type == "ConsentGranted"
    assert evidence.hash == customer.leaf_hashes([evidence.position])[evidence.position]
    assert len(evidence.hash) == 64
    assert answer.notice_version == "2021-06-03"
    assert (held.since, held.until) == (utc("2022-01-01T00:00:00"), None)


def test_a_consent_ends_at_its_expiry(core, customer: Ledger) -> None:
    f.append(
        customer,
        f.consent_granted(
            "C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z",
            data={"expires_at": "2023-01-01T00:00:00Z"},
        ),
    )  # fmt: skip
    views = core.views()
    assert bases(views, "profiling", "2022-12-31T00:00:00") == ["consent"]
    assert bases(views, "profiling", "2023-01-01T00:00:00") == []


def test_contract_based_marketing_runs_with_the_contract_until_an_objection(
    core,
    customer: Ledger,
) -> None:
    f.append(
        customer,
        f.consent_granted("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.objection("C-1", occurred_at="2022-03-01T00:00:00Z"),
    )
    views = core.views()
    assert bases(views, "marketing", "2021-09-01T00:00:00") == ["contract"]
    assert bases(views, "marketing", "2022-02-01T00:00:00") == ["consent", "contract"]
    assert bases(views, "marketing", "2022-03-01T00:00:00") == []
    assert bases(views, "marketing", "2025-01-01T00:00:00") == []
    # the objection does not touch purposes that are not direct marketing
    assert bases(views, "customer_relationship", "2025-01-01T00:00:00") == ["contract"]


def test_a_consent_given_after_an_objection_starts_a_new_consent(core, customer: Ledger) -> None:
    f.append(
        customer,
        f.objection("C-1", occurred_at="2022-03-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2023-01-01T00:00:00Z"),
    )
    views = core.views()
    assert bases(views, "marketing", "2022-06-01T00:00:00") == []
    assert bases(views, "marketing", "2023-06-01T00:00:00") == ["consent"]


def test_billing_rests_on_legal_obligation_for_ten_years_after_the_contract_ends(
    core,
    customer: Ledger,
) -> None:
    f.append(customer, f.contract_ended("C-1", occurred_at="2022-05-15T00:00:00Z"))
    views = core.views()
    assert bases(views, "billing", "2022-05-14T00:00:00") == ["contract"]
    assert bases(views, "billing", "2022-05-15T00:00:00") == ["legal_obligation"]
    # ten years from the end of the year the contract ended in
    # ten years from the end of the year in Helsinki (midnight there is 22:00 UTC)
    assert bases(views, "billing", "2032-12-31T21:59:59") == ["legal_obligation"]
    assert bases(views, "billing", "2032-12-31T22:00:00") == []
    assert bases(views, "marketing", "2022-06-01T00:00:00") == []


def test_overlapping_contracts_keep_the_contract_basis_until_the_last_one_ends(
    core,
    customer: Ledger,
) -> None:
    f.append(
        customer,
        f.contract_started("C-1", "K-2", controller=f.NETWORK, occurred_at="2022-01-01T00:00:00Z"),
        f.contract_ended("C-1", occurred_at="2022-05-15T00:00:00Z"),
        f.contract_ended("C-1", "K-2", controller=f.NETWORK, occurred_at="2023-01-10T00:00:00Z"),
    )
    views = core.views()
    assert bases(views, "service_delivery", "2022-10-01T00:00:00") == ["contract"]
    assert bases(views, "service_delivery", "2023-01-10T00:00:00") == []
    # each controller keeps its own billing records after its own contract ended
    assert bases(views, "billing", "2023-02-01T00:00:00") == ["legal_obligation"] * 2
    retail = views.basis("C-1", "billing", at=utc("2023-02-01T00:00:00"), known_at=None,
                         controller=f.RETAIL)  # fmt: skip
    assert [(b.basis, b.since) for b in retail.bases] == [
        ("legal_obligation", utc("2022-05-15T00:00:00"))
    ]


def test_a_purpose_added_by_a_later_notice_has_a_basis_only_under_it(
    core, customer: Ledger
) -> None:
    definition = customer.notices.versions[0].definition
    research = Purpose(id="research", description="Energy research", bases=("consent",))
    v2 = definition.model_copy(
        update={"version": "2023-01-01", "purposes": (*definition.purposes, research)}
    )
    customer.publish_notice(v2, "d" * 64, effective_from=utc("2023-01-01T00:00:00"))
    f.append(
        customer, f.consent_granted("C-1", purpose="research", occurred_at="2023-02-01T00:00:00Z")
    )
    answer = core.views().basis("C-1", "research", at=utc("2023-03-01T00:00:00"), known_at=None)
    assert (answer.lawful, answer.notice_version) == (True, "2023-01-01")
    assert bases(core.views(), "research", "2022-06-01T00:00:00") == []


def test_a_late_recorded_withdrawal_changes_what_was_true_but_not_what_we_knew(
    core, customer: Ledger, clock: FixedClock
) -> None:
    f.append(
        customer, f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z")
    )
    first_knowledge = clock.now()
    clock.advance(timedelta(days=30))
    # a paper withdrawal dated in the past is recorded a month later
    f.append(
        customer,
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
    )
    views = core.views()
    assert bases(views, "profiling", "2023-01-01T00:00:00") == []
    assert bases(views, "profiling", "2023-01-01T00:00:00", known_at=first_knowledge) == ["consent"]


def test_a_late_recorded_paper_consent_is_honest_on_both_clocks(
    core, customer: Ledger, clock: FixedClock
) -> None:
    before = clock.now()
    clock.advance(timedelta(days=1))
    f.append(
        customer, f.consent_granted("C-1", purpose="profiling", occurred_at="2021-12-01T00:00:00Z")
    )
    views = core.views()
    assert bases(views, "profiling", "2022-01-01T00:00:00") == ["consent"]
    assert bases(views, "profiling", "2022-01-01T00:00:00", known_at=before) == []


def test_the_timeline_lists_every_interval(core, customer: Ledger) -> None:
    f.append(
        customer,
        f.consent_granted("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", occurred_at="2022-02-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2022-03-01T00:00:00Z"),
    )
    answer = core.views().basis(
        "C-1", "marketing", at=utc("2022-02-15T00:00:00"), known_at=None, timeline=True
    )
    assert answer.timeline is not None
    assert [(i.basis, i.since.date().isoformat()) for i in answer.timeline] == [
        ("contract", "2021-08-01"),
        ("consent", "2022-01-01"),
        ("consent", "2022-03-01"),
    ]


def test_a_negative_answer_names_the_event_that_ended_the_last_basis(
    core, customer: Ledger
) -> None:
    f.append(
        customer,
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
    )
    views = core.views()

    after = views.basis("C-1", "profiling", at=utc("2022-07-01T00:00:00"), known_at=None)
    before = views.basis("C-1", "profiling", at=utc("2021-12-01T00:00:00"), known_at=None)
    during = views.basis("C-1", "profiling", at=utc("2022-03-01T00:00:00"), known_at=None)

    assert after.lawful is False
    assert after.last_ended is not None
    assert after.last_ended.basis == "consent"
    assert after.last_ended.ended_by is not None
    assert after.last_ended.ended_by.type == "ConsentWithdrawn"
    assert len(after.last_ended.ended_by.hash) == 64
    assert before.last_ended is None  # nothing had held yet
    assert during.last_ended is None  # a basis holds
