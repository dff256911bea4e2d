"""The processing of one subject, by event (categories gathered), oldest first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from schemas.answers import ProcessingAnswer


def list_processing(
    store: ViewStore,
    subject_id: UUID,
    *,
    purpose: str | None = None,
    known_at: datetime | None = None,
) -> list[ProcessingAnswer]:
    """Each DataProcessed of the subject (for ``purpose``), as recorded by ``known_at``."""
    sql = "SELECT * FROM {t}v_processing WHERE subject_id = ?"
    params: list[object] = [subject_id.hex]
    if purpose is not None:
        sql += " AND purpose = ?"
        params.append(purpose)
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(micros(known_at))
    by_event: dict[int, ProcessingAnswer] = {}
    for r in store.query(sql + " ORDER BY occurred_at, position, category", params):
        found = by_event.get(r["position"])
        if found is not None:
            found.categories.append(r["category"])
            continue
        by_event[r["position"]] = ProcessingAnswer(
            position=r["position"], purpose=r["purpose"], activity=r["activity"],
            controller=r["controller"], reference=r["reference"], categories=[r["category"]],
            occurred_at=instant(r["occurred_at"]), recorded_at=instant(r["recorded_at"]),
        )  # fmt: skip
    return list(by_event.values())
