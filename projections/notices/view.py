"""Queries of the notice versions."""

from __future__ import annotations

from datetime import datetime

from ledger.domain.register import NoticeVersion
from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from schemas.register import RegisterDefinition


def list_notices(store: ViewStore, known_at: datetime | None = None) -> list[NoticeVersion]:
    """Published versions ordered by effective_from; only those recorded by ``known_at``."""
    sql = "SELECT * FROM {t}v_notices"
    params: tuple[int, ...] = ()
    if known_at is not None:
        sql += " WHERE recorded_at <= ?"
        params = (micros(known_at),)
    rows = store.query(sql + " ORDER BY effective_from", params)
    return [
        NoticeVersion(
            version=r["version"],
            effective_from=instant(r["effective_from"]),
            definition=RegisterDefinition.model_validate_json(r["definition"]),
            digest=r["digest"],
            position=r["position"],
        )
        for r in rows
    ]
