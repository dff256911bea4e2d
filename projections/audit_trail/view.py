"""Queries of the audit trail."""

from __future__ import annotations

from uuid import UUID

from ledger.persistence.views import ViewStore
from projections.base import instant
from schemas.answers import TrailEntry


def list_trail(store: ViewStore, subject_id: UUID) -> list[TrailEntry]:
    """Every event of the subject in log order (one indexed query)."""
    rows = store.query(
        "SELECT position, type, occurred_at, recorded_at, actor, source FROM {t}v_trail"
        " WHERE subject_id = ? ORDER BY position",
        (subject_id.hex,),
    )
    return [
        TrailEntry(
            position=r["position"],
            type=r["type"],
            occurred_at=instant(r["occurred_at"]),
            recorded_at=instant(r["recorded_at"]),
            actor=r["actor"],
            source=r["source"],
        )
        for r in rows
    ]
