"""DataProcessed -> rows of ``v_processing`` (one per category), indexed by subject."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class ProcessingProjection(Projection):
    """One row per processed category: purpose, activity, controller, when."""

    name = "processing"
    tables = ("v_processing",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_processing (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, category TEXT NOT NULL, purpose TEXT NOT NULL,"
        " activity TEXT NOT NULL, controller TEXT, reference TEXT,"
        " occurred_at {bigint} NOT NULL, recorded_at {bigint} NOT NULL,"
        " PRIMARY KEY (subject_id, position, category))",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.stream_id.hex, e.position, category, e.data["purpose"], e.data["activity"],
             e.data.get("controller"), e.data.get("reference"), micros(e.occurred_at),
             micros(e.recorded_at))
            for e in events
            if e.type == "DataProcessed"
            for category in e.data["categories"]
        ]  # fmt: skip
        tx.insert("v_processing", rows)
