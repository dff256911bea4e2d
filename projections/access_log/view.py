"""The access log: recorded reads of decrypted personal data, oldest first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

import orjson

from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from schemas.answers import AccessRecord

RefsOf = Callable[[Iterable[UUID]], dict[UUID, str]]


def list_accesses(
    store: ViewStore,
    refs_of: RefsOf,
    *,
    since: datetime | None = None,
    subject_id: UUID | None = None,
) -> list[AccessRecord]:
    """Reads at or after ``since`` (of one subject), in log order.

    A subject whose reference was removed by an erasure shows as null.
    """
    where: list[str] = []
    params: list[int | str] = []
    if since is not None:
        where.append("occurred_at >= ?")
        params.append(micros(since))
    if subject_id is not None:
        where.append("subject_id = ?")
        params.append(subject_id.hex)
    sql = "SELECT * FROM {t}v_access"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.query(sql + " ORDER BY position", tuple(params))
    refs = refs_of({UUID(r["subject_id"]) for r in rows})
    return [
        AccessRecord(
            position=r["position"], occurred_at=instant(r["occurred_at"]),
            subject=refs.get(UUID(r["subject_id"])), actor=r["actor"], token_id=r["token_id"],
            via=r["via"], what=r["what"], categories=orjson.loads(r["categories"]),
            purpose=r["purpose"],
        )
        for r in rows
    ]  # fmt: skip
