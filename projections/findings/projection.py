"""FindingRecorded -> rows of ``v_findings``, indexed by when they were recorded."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class FindingsProjection(Projection):
    """One row per finding."""

    name = "findings"
    tables = ("v_findings",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_findings (position {bigint} PRIMARY KEY,"
        " subject_id TEXT NOT NULL, rule TEXT NOT NULL, message TEXT NOT NULL,"
        " event_version {bigint} NOT NULL, event_type TEXT NOT NULL, evidence TEXT NOT NULL,"
        " purpose TEXT, recipient TEXT, notice_version TEXT, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS v_findings_by_time ON {t}v_findings (recorded_at)",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.position, e.stream_id.hex, e.data["rule"], e.data["message"],
             e.data["event"]["version"], e.data["event"]["type"],
             orjson.dumps(e.data["evidence"]).decode(), e.data.get("purpose"),
             e.data.get("recipient"), e.data.get("notice_version"), micros(e.occurred_at),
             micros(e.recorded_at))
            for e in events
            if e.type == "FindingRecorded"
        ]  # fmt: skip
        tx.insert("v_findings", rows)
