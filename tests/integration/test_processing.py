"""Issue 12: in-house processing (DataProcessed) is recorded, judged and answered."""

from __future__ import annotations

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.errors import BatchRejected
from projections.export.build import build_export
from projections.export.html import render_html
from projections.replay import replay_compare
from tests import factories as f

SENT = "2021-12-01T09:00:00Z"


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    """C-1001: a retail customer since July 2021, who consented to marketing in 2022."""
    f.append(
        ledger,
        f.subject_registered("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1001", occurred_at="2021-07-02T00:00:00Z"),
    )
    return ledger


def test_on_what_basis_did_we_send_marketing_on_1_december_2021(
    core: Core, customer: Ledger
) -> None:
    sent = f.append(
        customer, f.processed("C-1001", occurred_at=SENT, reference="newsletter-2021-12")
    )

    answer = core.views().basis("C-1001", "marketing", at=f.utc("2021-12-01T09:00:00"),
                                known_at=None)  # fmt: skip

    assert sent.findings == ()
    [processed] = answer.processing
    assert (processed.activity, processed.controller, processed.lawful, processed.bases) == (
        "newsletter_sent", None, True, ["contract"],
    )  # fmt: skip
    assert processed.position == sent.last_position
    assert len(processed.hash) == 64


def test_processing_without_a_basis_is_recorded_and_flagged(customer: Ledger) -> None:
    f.append(customer, f.objection("C-1001", occurred_at="2021-11-01T00:00:00Z"))

    result = f.append(customer, f.processed("C-1001", occurred_at=SENT))

    assert result.appended == 1
    assert [(x["rule"], x["type"]) for x in result.findings] == [
        ("no_lawful_basis", "DataProcessed")
    ]
    assert "ObjectionRecorded" in result.findings[0]["message"]


def test_processing_appears_in_trail_lineage_export_and_replay(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.processed("C-1001", occurred_at=SENT, reference="newsletter-2021-12"))
    views = core.views()

    trail = [e.type for e in views.trail("C-1001").events]
    lineage = {d.field: d.processed for d in views.lineage("C-1001").data}
    document = build_export(views, "C-1001")

    assert trail[-1] == "DataProcessed"
    assert [(p["purpose"], p["activity"]) for p in lineage["name"]] == [
        ("marketing", "newsletter_sent")
    ]
    assert [p["reference"] for p in document["processing"]] == ["newsletter-2021-12"]
    assert "newsletter_sent" in render_html(document)
    _, differences, _ = replay_compare(core.ledger, core.store)
    assert differences == []


def test_processing_of_an_unknown_category_is_refused_naming_the_field(customer: Ledger) -> None:
    with pytest.raises(BatchRejected) as refused:
        f.append(customer, f.processed("C-1001", categories=["customer_basic", "shoes"]))

    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("data.categories.1", "unknown_category")
    ]
