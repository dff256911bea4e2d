"""The stored shape: stable topics, sealed fields, class_version upcasting."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from ledger.appending.application import Ledger
from ledger.clock import FixedClock
from ledger.rights.erasure import erase
from schemas import events as ev
from tests import factories as f


def test_the_topic_is_the_contract_type_name(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.personal_data("C-1"))
    rows = ledger.ledger_recorder.select_events(ledger.subject_id("C-1"))
    assert [r.topic for r in rows] == ["SubjectRegistered", "PersonalDataRecorded"]
    state = orjson.loads(rows[1].state)
    assert state["data"]["fields"]["names"] == ["name", "personal_identity_code"]
    assert set(state["data"]["fields"]) == {"names", "sealed"}
    assert state["class_version"] == 2  # PersonalDataRecorded v2 added upstream_reference
    assert "class_version" not in orjson.loads(rows[0].state)  # version 1 is not written


def test_a_version_1_personal_data_event_reads_with_no_upstream_reference(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.personal_data("C-1"))
    (row,) = ledger.ledger_recorder.select_events(ledger.subject_id("C-1"), gt=1)
    state = orjson.loads(row.state)
    del state["class_version"]
    state["data"] = {k: v for k, v in state["data"].items() if k != "upstream_reference"}
    old = StoredEvent(row.originator_id, row.originator_version, row.topic, orjson.dumps(state))
    event = ledger.mapper.to_domain_event(old)
    assert event.data.upstream_reference is None
    assert event.data.fields["name"] == "Aino Virtanen"


class ObjectionRecordedV2(ev.LedgerEvent):
    """A later shape of the event: the objection names the channel it came through."""

    class_version: ClassVar[int] = 2
    type: Literal["ObjectionRecorded"] = "ObjectionRecorded"
    data: Any

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["data"] = {**state["data"], "channel": "unknown"}


def test_events_stored_under_an_older_class_version_are_upcast_on_read(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.objection("C-1"))
    monkeypatch.setitem(ev.EVENT_TYPES, "ObjectionRecorded", ObjectionRecordedV2)
    event = ledger.stream(ledger.subject_id("C-1"))[-1]
    assert isinstance(event, ObjectionRecordedV2)
    assert event.data == {"purpose": "marketing", "channel": "unknown"}
    f.append(ledger, f.objection("C-1", purpose="profiling"))
    newest = ledger.ledger_recorder.select_events(ledger.subject_id("C-1"))[-1]
    assert orjson.loads(newest.state)["class_version"] == 2


def test_a_finding_about_a_version_2_event_is_stored_at_the_finding_s_own_version(
    ledger: Ledger, clock: FixedClock
) -> None:
    # The finding's state was copied from the judged line's, which the mapper had
    # given "class_version": 2 (PersonalDataRecorded v2): stored so, a later upcaster
    # of FindingRecorded would take it for a v2 finding and skip its v1 -> v2 step.
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"billing_email": "aino@example.fi"}, category="billing",
                        occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.contract_ended("C-1", occurred_at="2023-01-31T00:00:00Z"),
    )  # fmt: skip
    erase(ledger, "C-1", reason="request R-1")  # billing is held: the reference stays
    clock.at = f.utc("2024-06-01T00:00:00")
    written = f.append(
        ledger,
        f.personal_data("C-1", {"billing_email": "new@example.fi"}, category="billing",
                        occurred_at="2024-05-01T10:00:00Z"),
    )  # fmt: skip
    assert [x["rule"] for x in written.findings] == ["data_recorded_after_erasure"]
    rows = ledger.ledger_recorder.select_events(ledger.subject_id("C-1"))
    judged, finding = (orjson.loads(r.state) for r in rows[-2:])
    assert (rows[-2].topic, rows[-1].topic) == ("PersonalDataRecorded", "FindingRecorded")
    assert judged["class_version"] == 2
    assert "class_version" not in finding
