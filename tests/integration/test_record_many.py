"""Events the ledger writes itself, several in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.appending.application import Ledger
from ledger.appending.outcomes import Recorded
from schemas import events as ev
from tests import factories as f


def _erased() -> ev.SubjectErasedData:
    return ev.SubjectErasedData(
        scope="category", erased=("marketing_profile",), held=(), reason="test",
        reference_removed=False,
    )  # fmt: skip


def test_several_ledger_events_are_stored_in_one_call_with_their_positions(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.subject_registered("C-2"))
    one, two = ledger.subject_id("C-1"), ledger.subject_id("C-2")
    when = datetime(2024, 1, 1, tzinfo=UTC)
    positions = ledger.record_many(
        [
            Recorded(one, "SubjectErased", _erased(), when, "dpo"),
            Recorded(two, "SubjectErased", _erased(), when, "dpo"),
            Recorded(one, "SubjectErased", _erased(), when, "dpo"),
        ]
    )
    assert len(positions) == 3
    assert positions == sorted(positions)
    assert [e.type for e in ledger.stream(one)] == [
        "SubjectRegistered",
        "SubjectErased",
        "SubjectErased",
    ]
    assert sorted(ledger.positions(one)) == [1, 2, 3]
    assert max(ledger.positions(two).values()) == positions[1]


def test_nothing_to_record_writes_nothing(ledger: Ledger) -> None:
    assert ledger.record_many([]) == []
