"""The basis question: (subject, purpose, at, known_at) -> bases with evidence."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain.basis import Fact, Interval, basis_intervals
from ledger.domain.register import NoticeHistory
from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from projections.notices.view import list_notices
from schemas.answers import BasisAnswer, BasisInterval, EvidenceRef

HashLookup = dict[int, str]
HashesOf = Callable[[Collection[int]], HashLookup]


def list_facts(store: ViewStore, subject_id: UUID, known_at: datetime | None) -> list[Fact]:
    """The subject's basis facts recorded by ``known_at`` (one indexed query)."""
    sql = "SELECT * FROM {t}v_basis_facts WHERE subject_id = ?"
    params: list[object] = [subject_id.hex]
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(micros(known_at))
    return [row_fact(r) for r in store.query(sql, params)]


def row_fact(r: Any) -> Fact:
    """A ``v_basis_facts`` row as a domain Fact."""
    return Fact(
        position=r["position"],
        type=r["type"],
        occurred_at=instant(r["occurred_at"]),
        recorded_at=instant(r["recorded_at"]),
        purpose=r["purpose"],
        controller=r["controller"],
        contract=r["contract"],
        notice_version=r["notice_version"],
        expires_at=None if r["expires_at"] is None else instant(r["expires_at"]),
    )


def _answer_interval(interval: Interval, hashes: HashLookup) -> BasisInterval:
    return BasisInterval(
        basis=interval.basis,
        since=interval.since,
        until=interval.until,
        evidence=[
            EvidenceRef(position=e.position, type=e.type, hash=hashes[e.position])
            for e in interval.evidence
        ],
    )


def get_basis(
    store: ViewStore,
    hashes_of: HashesOf,
    *,
    subject: str,
    subject_id: UUID,
    purpose: str,
    at: datetime,
    known_at: datetime | None,
    timeline: bool = False,
) -> BasisAnswer:
    """Whether processing for ``purpose`` was lawful at ``at``, as known at ``known_at``."""
    notices = list_notices(store, known_at)
    intervals = basis_intervals(list_facts(store, subject_id, known_at), notices, purpose)
    holding = [i for i in intervals if i.holds_at(at)]
    shown = intervals if timeline else holding
    hashes: HashLookup = hashes_of({e.position for i in shown for e in i.evidence})
    notice = NoticeHistory(notices).in_force(at)
    return BasisAnswer(
        subject=subject,
        purpose=purpose,
        at=at,
        known_at=known_at,
        lawful=bool(holding),
        bases=[_answer_interval(i, hashes) for i in holding],
        notice_version=None if notice is None else notice.version,
        timeline=[_answer_interval(i, hashes) for i in intervals] if timeline else None,
    )
