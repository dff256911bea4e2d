"""Issue 12: Art. 18 restriction of processing is recorded, judged and answered."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.cli import run_captured
from ledger.clock import FixedClock
from ledger.errors import BatchRejected
from ledger.persistence.keys import MasterKeySource
from projections.check import check
from projections.replay import replay_compare
from tests import factories as f

RESTRICTED = "2021-11-01T00:00:00Z"
SENT = "2021-12-01T09:00:00Z"
LIFTED = "2022-01-01T00:00:00Z"


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    """C-1001: a retail customer since July 2021 (contract: a basis for marketing)."""
    f.append(
        ledger,
        f.subject_registered("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1001", occurred_at="2021-07-02T00:00:00Z"),
    )
    return ledger


def rules(result: object) -> list[tuple[str, str]]:
    return [(x["rule"], x["type"]) for x in result.findings]  # type: ignore[attr-defined]


def test_processing_a_restricted_category_is_recorded_and_flagged(customer: Ledger) -> None:
    restriction = f.append(customer, f.restricted("C-1001", occurred_at=RESTRICTED))

    result = f.append(customer, f.processed("C-1001", occurred_at=SENT))

    assert restriction.findings == ()
    assert result.appended == 1
    assert rules(result) == [("processing_while_restricted", "DataProcessed")]
    assert "ProcessingRestricted of 2021-11-01T00:00:00+00:00" in result.findings[0]["message"]


def test_a_disclosure_of_a_restricted_category_in_the_same_batch_is_flagged(
    customer: Ledger,
) -> None:
    result = f.append(
        customer,
        f.restricted("C-1001", categories=["billing"], occurred_at=RESTRICTED),
        f.disclosed("C-1001", occurred_at=SENT),
    )

    assert rules(result) == [("processing_while_restricted", "DataDisclosed")]
    assert "['billing']" in result.findings[0]["message"]


def test_storing_data_while_restricted_and_using_it_after_the_lift_are_no_findings(
    customer: Ledger,
) -> None:
    f.append(customer, f.restricted("C-1001", occurred_at=RESTRICTED))

    stored = f.append(customer, f.personal_data("C-1001", occurred_at=SENT))
    f.append(customer, f.restriction_lifted("C-1001", occurred_at=LIFTED))
    used = f.append(customer, f.processed("C-1001", occurred_at="2022-01-02T00:00:00Z"))

    assert (stored.findings, used.findings) == ((), ())


def test_a_restriction_of_another_category_does_not_flag_processing(customer: Ledger) -> None:
    f.append(customer, f.restricted("C-1001", categories=["billing"], occurred_at=RESTRICTED))

    result = f.append(customer, f.processed("C-1001", occurred_at=SENT))

    assert result.findings == ()


def test_basis_says_restricted_naming_the_restriction_and_check_refuses(
    core: Core, customer: Ledger
) -> None:
    restriction = f.append(customer, f.restricted("C-1001", occurred_at=RESTRICTED))
    f.append(customer, f.restriction_lifted("C-1001", occurred_at=LIFTED))
    views = core.views()

    during = views.basis("C-1001", "marketing", at=f.utc("2021-12-01T09:00:00"), known_at=None)
    after = views.basis("C-1001", "marketing", at=f.utc("2022-01-02T00:00:00"), known_at=None)
    refused = check(views, "C-1001", "marketing", at=f.utc("2021-12-01T09:00:00"))
    allowed = check(views, "C-1001", "marketing", at=f.utc("2022-01-02T00:00:00"))

    assert (during.lawful, during.restricted) == (True, True)
    [standing] = during.restrictions
    assert (standing.event.type, standing.event.position) == (
        "ProcessingRestricted", restriction.last_position,
    )  # fmt: skip
    assert len(standing.event.hash) == 64
    assert "customer_basic" in standing.categories
    assert (after.restricted, after.restrictions) == (False, [])
    assert refused.allowed is False
    assert refused.problems == [
        f"processing of {standing.categories} is restricted since 2021-11-01T00:00:00+00:00"
        f" by ProcessingRestricted at position {restriction.last_position}: it may only be stored"
    ]
    assert (allowed.allowed, allowed.problems) == (True, [])


def test_the_cli_check_codes_a_restriction_as_processing_while_restricted(
    customer: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(customer, f.restricted("C-1001", occurred_at=RESTRICTED))
    code, out, _ = run_captured(
        ["check", "C-1001", "marketing", "--at", "2021-12-01T09:00:00Z", "--store", store_url,
         "--key-file", str(key_source.path), "--json"]
    )  # fmt: skip
    answer = orjson.loads(out)
    assert (code, answer["allowed"]) == (0, False)  # an answer, not an error
    assert [(p["rule"], p["field"]) for p in answer["problem_details"]] == [
        ("processing_while_restricted", "categories")
    ]


def test_check_of_other_categories_is_allowed_during_a_partial_restriction(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.restricted("C-1001", categories=["billing"], occurred_at=RESTRICTED))
    views = core.views()
    at = f.utc("2021-12-01T09:00:00")

    basic = check(views, "C-1001", "marketing", at=at, categories=["customer_basic"])
    anything = check(views, "C-1001", "marketing", at=at)

    assert (basic.allowed, basic.basis.restricted) == (True, True)
    assert anything.allowed is False
    assert "processing of ['billing'] is restricted" in anything.problems[0]


def test_a_restriction_as_known_before_it_was_recorded_is_not_shown(
    core: Core, customer: Ledger, clock: FixedClock
) -> None:
    before = clock.now()
    clock.advance(timedelta(minutes=1))
    f.append(customer, f.restricted("C-1001", occurred_at=RESTRICTED))
    views = core.views()
    at = f.utc("2021-12-01T09:00:00")

    assert views.basis("C-1001", "marketing", at=at, known_at=before).restricted is False
    assert views.basis("C-1001", "marketing", at=at, known_at=None).restricted is True


def test_a_restriction_of_an_unknown_category_is_refused_naming_the_field(
    customer: Ledger,
) -> None:
    with pytest.raises(BatchRejected) as refused:
        f.append(customer, f.restricted("C-1001", categories=["customer_basic", "shoes"]))

    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("data.categories.1", "unknown_category")
    ]


def test_restriction_and_lift_appear_in_the_trail_and_replay(core: Core, customer: Ledger) -> None:
    f.append(
        customer,
        f.restricted("C-1001", categories=["billing"], occurred_at=RESTRICTED),
        f.restriction_lifted("C-1001", categories=["billing"], occurred_at=LIFTED),
    )
    views = core.views()

    trail = [e.type for e in views.trail("C-1001").events]

    assert trail[-2:] == ["ProcessingRestricted", "RestrictionLifted"]
    _, differences, _ = replay_compare(core.ledger, core.store)
    assert differences == []
