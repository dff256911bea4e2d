"""Disclosure queries from the indexed view, including the breach question."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from schemas.answers import BreachSubject, DisclosureAnswer

RefsOf = Callable[[Iterable[UUID]], dict[UUID, str]]


def list_disclosures(
    store: ViewStore,
    refs_of: RefsOf,
    *,
    recipient: str | None = None,
    subject_id: UUID | None = None,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[DisclosureAnswer]:
    """Disclosures matching every given filter, oldest first (period: [since, until))."""
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("recipient = ?", recipient),
        ("subject_id = ?", None if subject_id is None else subject_id.hex),
        ("occurred_at >= ?", None if since is None else micros(since)),
        ("occurred_at < ?", None if until is None else micros(until)),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = "SELECT * FROM {t}v_disclosures"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.query(sql + " ORDER BY occurred_at, position", params)
    grouped: dict[int, list[Any]] = {}
    for r in rows:
        grouped.setdefault(r["position"], []).append(r)
    if category is not None:
        grouped = {p: g for p, g in grouped.items() if any(r["category"] == category for r in g)}
    refs = refs_of({UUID(g[0]["subject_id"]) for g in grouped.values()})
    return [
        DisclosureAnswer(
            position=p, subject=refs.get(UUID(g[0]["subject_id"])), recipient=g[0]["recipient"],
            purpose=g[0]["purpose"], categories=sorted(r["category"] for r in g),
            reference=g[0]["reference"], occurred_at=instant(g[0]["occurred_at"]),
            recorded_at=instant(g[0]["recorded_at"]),
        )
        for p, g in grouped.items()
    ]  # fmt: skip


def breach(disclosures: list[DisclosureAnswer]) -> list[BreachSubject]:
    """Per subject: which categories the recipient received in the period."""
    by_subject: dict[str | None, list[DisclosureAnswer]] = {}
    for d in disclosures:
        by_subject.setdefault(d.subject, []).append(d)
    return [
        BreachSubject(
            subject=subject,
            categories=sorted({c for d in found for c in d.categories}),
            disclosures=len(found),
            first=min(d.occurred_at for d in found),
            last=max(d.occurred_at for d in found),
        )
        for subject, found in sorted(by_subject.items(), key=lambda kv: kv[0] or "")
    ]
