"""The runner: exactly-once tracking, incremental catch-up, failures named, waits."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from ledger.appending.application import Ledger
from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections import PROJECTIONS
from projections.audit_trail.projection import AuditTrailProjection
from projections.base import ProjectionFailed
from tests import factories as f


def test_catch_up_applies_each_event_once_and_tracks_the_position(core, ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.personal_data("C-1"))
    runner = core.runner(page_size=1)
    assert runner.catch_up() == 3  # the notice and two subject events
    assert set(runner.positions().values()) == {runner.head()}
    assert runner.catch_up() == 0
    f.append(ledger, f.objection("C-1"))
    assert runner.catch_up() == 1
    rows = runner.store.query("SELECT type FROM {t}v_trail ORDER BY position")
    assert [r["type"] for r in rows] == [
        "SubjectRegistered",
        "PersonalDataRecorded",
        "ObjectionRecorded",
    ]


def test_tracking_refuses_to_apply_a_position_twice(core, ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    runner = core.runner()
    runner.catch_up()
    with pytest.raises(Exception, match="tracking"), runner.store.transaction() as tx:
        tx.track("audit_trail", runner.head())


class Exploding(AuditTrailProjection):
    """The audit trail, but it cannot handle objections."""

    name = "exploding"

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        if any(e.type == "ObjectionRecorded" for e in events):
            raise RuntimeError("cannot handle objections")
        super().apply(tx, [e for e in events if e.type != "ObjectionRecorded"])


def test_a_failing_handler_stops_its_projection_naming_the_event(core, ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1"),
        f.personal_data("C-1"),
        f.objection("C-1"),
        f.contract_started("C-1"),
    )
    objection = ledger.subject_id("C-1")
    message = (
        f"projection exploding failed on event at position {ledger.positions(objection)[3]}"
        f" (ObjectionRecorded, stream {objection} v3): RuntimeError('cannot handle objections')"
    )
    runner = core.runner([Exploding])
    with pytest.raises(ProjectionFailed, match=f"^{re.escape(message)}$") as failed:
        runner.catch_up()
    assert failed.value.projection == "exploding"
    assert failed.value.event is not None
    assert (failed.value.event.type, failed.value.event.stream_id) == (
        "ObjectionRecorded",
        objection,
    )
    assert "ObjectionRecorded" in str(failed.value)
    assert runner.positions() == {"exploding": 0}  # nothing of the batch was kept
    with pytest.raises(ProjectionFailed, match=f"^{re.escape(message)}$"):
        runner.catch_up()


def test_wait_returns_once_the_views_reach_a_position(core, ledger: Ledger) -> None:
    runner = core.runner()
    runner.catch_up()
    f.append(ledger, f.subject_registered("C-1"))
    message = f"projections did not reach position {runner.head()} within 0.1 s"
    with pytest.raises(TimeoutError, match=f"^{re.escape(message)}$"):
        runner.wait(runner.head(), timeout=0.1)
    runner.catch_up()
    runner.wait(runner.head(), timeout=0.1)


def test_every_projection_is_registered_once_with_its_own_tables() -> None:
    names = [p.name for p in PROJECTIONS]
    tables = [t for p in PROJECTIONS for t in p.tables]
    assert len(set(names)) == len(names)
    assert len(set(tables)) == len(tables)
