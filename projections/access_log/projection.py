"""PersonalDataAccessed -> rows of ``v_access``, one per recorded read."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class AccessLogProjection(Projection):
    """One row per read of decrypted personal data."""

    name = "access_log"
    tables = ("v_access",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_access (position {bigint} PRIMARY KEY,"
        " subject_id TEXT NOT NULL, occurred_at {bigint} NOT NULL, actor TEXT NOT NULL,"
        " token_id TEXT, via TEXT NOT NULL, what TEXT NOT NULL, categories TEXT NOT NULL,"
        " purpose TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS v_access_by_time ON {t}v_access (occurred_at)",
        "CREATE INDEX IF NOT EXISTS v_access_by_subject ON {t}v_access (subject_id, position)",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.position, e.stream_id.hex, micros(e.occurred_at), e.data["actor"],
             e.data.get("token_id"), e.data["via"], e.data["what"],
             orjson.dumps(e.data["categories"]).decode(), e.data["purpose"])
            for e in events
            if e.type == "PersonalDataAccessed"
        ]  # fmt: skip
        tx.insert("v_access", rows)
