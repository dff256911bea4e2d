"""DataDisclosed -> rows of ``v_disclosures`` (one per category), indexed for breaches."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class DisclosuresProjection(Projection):
    """One row per disclosed category, indexed by recipient and time and by subject."""

    name = "disclosures"
    tables = ("v_disclosures",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_disclosures (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, category TEXT NOT NULL, recipient TEXT NOT NULL,"
        " purpose TEXT NOT NULL, reference TEXT, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, PRIMARY KEY (subject_id, position, category))",
        "CREATE INDEX IF NOT EXISTS v_disclosures_by_recipient"
        " ON {t}v_disclosures (recipient, occurred_at)",
        "CREATE INDEX IF NOT EXISTS v_disclosures_by_time ON {t}v_disclosures (occurred_at)",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.stream_id.hex, e.position, category, e.data["recipient"], e.data["purpose"],
             e.data.get("reference"), micros(e.occurred_at), micros(e.recorded_at))
            for e in events
            if e.type == "DataDisclosed"
            for category in e.data["categories"]
        ]  # fmt: skip
        tx.insert("v_disclosures", rows)
