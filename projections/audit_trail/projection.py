"""Events -> rows of ``v_trail``; no queries here."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros

NOT_SUBJECT_EVENTS = frozenset(
    {"NoticePublished", "RecipientRegistered", "TokenIssued", "TokenRevoked"}
)


class AuditTrailProjection(Projection):
    """One row per event on a subject's stream."""

    name = "audit_trail"
    tables = ("v_trail",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_trail (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, version {bigint} NOT NULL, type TEXT NOT NULL,"
        " occurred_at {bigint} NOT NULL, recorded_at {bigint} NOT NULL, actor TEXT NOT NULL,"
        " source TEXT, PRIMARY KEY (subject_id, position))",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = [
            (e.stream_id.hex, e.position, e.version, e.type, micros(e.occurred_at),
             micros(e.recorded_at), e.actor, e.source)
            for e in events
            if e.type not in NOT_SUBJECT_EVENTS
        ]  # fmt: skip
        tx.insert("v_trail", rows)
