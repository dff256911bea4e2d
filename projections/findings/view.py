"""Findings since an instant, with the positions and leaf hashes of the events behind them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from ledger.domain.findings import BASIS_RULES
from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from schemas.answers import EvidenceRef, FindingAnswer

HashesOf = Callable[[Collection[int]], dict[int, str]]
RefsOf = Callable[[Iterable[UUID]], dict[UUID, str]]


def _positions(store: ViewStore, subjects: set[str]) -> dict[tuple[str, int], tuple[int, str]]:
    """(subject, stream version) -> (position, type), from the audit trail."""
    out: dict[tuple[str, int], tuple[int, str]] = {}
    for sid in subjects:
        rows = store.query(
            "SELECT version, position, type FROM {t}v_trail WHERE subject_id = ?", (sid,)
        )
        out.update({(sid, r["version"]): (r["position"], r["type"]) for r in rows})
    return out


def _unlifted(store: ViewStore, rows: list[Any], known_at: datetime | None) -> list[Any]:
    """``rows`` without the basis findings a lift recorded by ``known_at`` cancels."""
    sql = "SELECT subject_id, event_version, position FROM {t}v_findings WHERE rule = ?"
    params: tuple[str | int, ...] = ("finding_lifted",)
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params += (micros(known_at),)
    lifts: dict[tuple[str, int], int] = {}
    for lift in store.query(sql, params):
        key = (lift["subject_id"], lift["event_version"])
        lifts[key] = max(lift["position"], lifts.get(key, 0))
    return [
        r for r in rows
        if r["rule"] not in BASIS_RULES
        or lifts.get((r["subject_id"], r["event_version"]), 0) < r["position"]
    ]  # fmt: skip


def list_findings(
    store: ViewStore,
    refs_of: RefsOf,
    hashes_of: HashesOf,
    since: datetime | None,
    known_at: datetime | None = None,
) -> list[FindingAnswer]:
    """Findings recorded at or after ``since`` (and by ``known_at``), oldest first.

    ``known_at``: what was known then; a finding a late fact brought to light is
    recorded when the late fact was, so it is left out before that. A basis finding
    that a ``finding_lifted`` recorded by then (or, without ``known_at``, ever) lifts
    is left out: a grant recorded late made the use lawful.
    """
    sql = "SELECT * FROM {t}v_findings"
    where: list[str] = []
    params: list[int] = []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(micros(since))
    if known_at is not None:
        where.append("recorded_at <= ?")
        params.append(micros(known_at))
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.query(sql + " ORDER BY position", tuple(params))
    rows = _unlifted(store, rows, known_at)
    subjects = {r["subject_id"] for r in rows}
    places = _positions(store, subjects)
    refs = refs_of({UUID(s) for s in subjects})

    def ref(sid: str, version: int, kind: str) -> tuple[int, str]:
        return places.get((sid, version), (0, kind))

    judged = [(r, {"version": r["event_version"], "type": r["event_type"]}) for r in rows]
    wanted = {
        ref(r["subject_id"], e["version"], e["type"])[0]
        for r, event in judged
        for e in [event, *orjson.loads(r["evidence"])]
    }
    hashes = hashes_of(wanted - {0})

    def evidence(sid: str, version: int, kind: str) -> EvidenceRef:
        position, _ = ref(sid, version, kind)
        return EvidenceRef(position=position, type=kind, hash=hashes.get(position, ""))

    return [
        FindingAnswer(
            position=r["position"], subject=refs.get(UUID(r["subject_id"])), rule=r["rule"],
            message=r["message"], purpose=r["purpose"], recipient=r["recipient"],
            notice_version=r["notice_version"], occurred_at=instant(r["occurred_at"]),
            recorded_at=instant(r["recorded_at"]),
            event=evidence(r["subject_id"], r["event_version"], r["event_type"]),
            evidence=[evidence(r["subject_id"], e["version"], e["type"])
                      for e in orjson.loads(r["evidence"])],
        )
        for r in rows
    ]  # fmt: skip
