"""ProfileDerived -> rows of ``v_derivations`` (one per source category)."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class LineageProjection(Projection):
    """Which derived category was built from which category, when, for what."""

    name = "lineage"
    tables = ("v_derivations",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_derivations (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, source_category TEXT NOT NULL, category TEXT NOT NULL,"
        " purpose TEXT NOT NULL, occurred_at {bigint} NOT NULL, recorded_at {bigint} NOT NULL,"
        " PRIMARY KEY (subject_id, position, source_category))",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.stream_id.hex, e.position, origin, e.data["category"], e.data["purpose"],
             micros(e.occurred_at), micros(e.recorded_at))
            for e in events
            if e.type == "ProfileDerived"
            for origin in e.data["derived_from"]
        ]  # fmt: skip
        tx.insert("v_derivations", rows)
