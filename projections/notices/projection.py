"""NoticePublished -> rows of ``v_notices``."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class NoticesProjection(Projection):
    """One row per published version, with its definition."""

    name = "notices"
    tables = ("v_notices",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_notices (version TEXT PRIMARY KEY,"
        " position {bigint} NOT NULL, effective_from {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, digest TEXT NOT NULL, definition TEXT NOT NULL)",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.data["version"], e.position, micros(e.occurred_at), micros(e.recorded_at),
             e.data["digest"], orjson.dumps(e.data["definition"]).decode())
            for e in events
            if e.type == "NoticePublished"
        ]  # fmt: skip
        tx.insert("v_notices", rows)
