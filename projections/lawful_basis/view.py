"""The basis question: (subject, purpose, at, known_at) -> bases with evidence."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain.basis import (
    Evidence,
    Fact,
    Interval,
    Restriction,
    basis_intervals,
    controllers_of,
    restricted_at,
)
from ledger.domain.consent import SUBJECT
from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.errors import InvalidRequest, Rule
from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from projections.notices.view import list_notices
from projections.processing.view import list_processing
from schemas.answers import (
    BasisAnswer,
    BasisInterval,
    ControllerBasis,
    EvidenceRef,
    ProcessedBasis,
    ProcessingAnswer,
    RestrictionRef,
)
from schemas.identifiers import business_id_shaped

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
        withdrawn_by=r["withdrawn_by"],
    )


def list_restrictions(
    store: ViewStore, subject_id: UUID, known_at: datetime | None
) -> list[Restriction]:
    """The subject's restrictions and lifts recorded by ``known_at`` (one indexed query)."""
    sql = "SELECT * FROM {t}v_restrictions WHERE subject_id = ?"
    params: list[object] = [subject_id.hex]
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(micros(known_at))
    return [
        Restriction(
            position=r["position"],
            type=r["type"],
            occurred_at=instant(r["occurred_at"]),
            categories=None if r["categories"] is None else tuple(r["categories"].split()),
            controller=r["controller"],
        )
        for r in store.query(sql, params)
    ]


def standing_restrictions(
    restrictions: list[Restriction],
    notices: Collection[NoticeVersion],
    controller: str | None,
    at: datetime,
) -> dict[Evidence, list[str]]:
    """Each restriction standing at ``at``, with the categories it still restricts."""
    universe = [c.id for n in notices for c in n.definition.categories]
    universe += [c for r in restrictions for c in r.categories or ()]
    out: dict[Evidence, list[str]] = {}
    for category, by in restricted_at(restrictions, universe, controller, at).items():
        out.setdefault(by, []).append(category)
    return out


def restriction_problems(basis: BasisAnswer, categories: Collection[str] | None) -> list[str]:
    """Why ``check`` refuses while processing is restricted (Art. 18), naming the restriction.

    ``categories`` None: the processing may touch any of the subject's data.
    """
    out = []
    for r in basis.restrictions:
        hit = [c for c in r.categories if categories is None or c in categories]
        if hit:
            out.append(
                f"processing of {hit} is restricted since {r.since.isoformat()} by"
                f" {r.event.type} at position {r.event.position}: it may only be stored"
            )
    return out


def known_controller(notices: Collection[NoticeVersion], controller: str | None) -> None:
    """Refuse a controller no notice version names (shown only if shaped like a business ID)."""
    if controller is None or any(controller in n.index.controllers for n in notices):
        return
    shown = controller if business_id_shaped(controller) else "<not shown>"
    msg = f"controller {shown} is in no version of the notice"
    raise InvalidRequest(msg, rule=Rule.UNKNOWN_CONTROLLER, field="controller")


def _answer_interval(interval: Interval, hashes: HashLookup) -> BasisInterval:
    ended = interval.ended_by
    return BasisInterval(
        basis=interval.basis,
        since=interval.since,
        until=interval.until,
        evidence=[_ref(e, hashes) for e in interval.evidence],
        controller=interval.controller,
        ended_by=None if ended is None else _ref(ended, hashes),
    )


def _ref(e: Evidence, hashes: HashLookup) -> EvidenceRef:
    """An event an interval rests on; a revocation names who revoked it."""
    by = e.withdrawn_by if e.withdrawn_by != SUBJECT else None
    return EvidenceRef(position=e.position, type=e.type, hash=hashes[e.position], withdrawn_by=by)


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
    controller: str | None = None,
) -> BasisAnswer:
    """Whether processing for ``purpose`` was lawful at ``at``, as known at ``known_at``.

    ``controller``: for that controller only; None: for every controller of the
    purpose (lawful when one of them has a basis; ``by_controller`` tells each).
    """
    notices = list_notices(store, known_at)
    known_controller(notices, controller)
    facts = list_facts(store, subject_id, known_at)
    intervals = basis_intervals(facts, notices, purpose, controller)
    holding = [i for i in intervals if i.holds_at(at)]
    # A negative answer says what ended the last basis before ``at`` (if any held).
    ended = [i for i in intervals if not holding and i.until is not None and i.until <= at]
    last = max(ended, key=lambda i: (i.until or at, i.ended_by is not None), default=None)
    shown = intervals if timeline else [*holding, *([last] if last is not None else [])]
    processed = [
        p for p in list_processing(store, subject_id, purpose=purpose, known_at=known_at)
        if p.occurred_at <= at and (controller is None or p.controller in (None, controller))
    ]  # fmt: skip
    positions = {e.position for i in shown for e in i.evidence}
    positions |= {i.ended_by.position for i in shown if i.ended_by is not None}
    positions |= {p.position for p in processed}
    restrictions = list_restrictions(store, subject_id, known_at)
    standing = standing_restrictions(restrictions, notices, controller, at)
    positions |= {e.position for e in standing}
    hashes: HashLookup = hashes_of(positions)
    every = intervals if controller is None else basis_intervals(facts, notices, purpose)
    considered = [controller] if controller is not None else controllers_of(notices, purpose)
    by_controller = [
        ControllerBasis(controller=c, lawful=any(i.controller == c for i in holding))
        for c in considered
    ]
    notice = NoticeHistory(notices).in_force(at)
    return BasisAnswer(
        subject=subject,
        purpose=purpose,
        at=at,
        known_at=known_at,
        lawful=bool(holding),
        controller=controller,
        by_controller=by_controller,
        bases=[_answer_interval(i, hashes) for i in holding],
        notice_version=None if notice is None else notice.version,
        timeline=[_answer_interval(i, hashes) for i in intervals] if timeline else None,
        last_ended=None if last is None else _answer_interval(last, hashes),
        processing=[_processed(p, every, hashes) for p in processed],
        restricted=bool(standing),
        restrictions=[
            _restriction(e, categories, restrictions, hashes) for e, categories in standing.items()
        ],
    )


def _restriction(
    by: Evidence, categories: list[str], restrictions: list[Restriction], hashes: HashLookup
) -> RestrictionRef:
    event = next(r for r in restrictions if r.position == by.position)
    return RestrictionRef(
        event=EvidenceRef(position=by.position, type=by.type, hash=hashes[by.position]),
        since=event.occurred_at,
        categories=sorted(categories),
        controller=event.controller,
    )


def _processed(
    p: ProcessingAnswer, intervals: list[Interval], hashes: HashLookup
) -> ProcessedBasis:
    """A processing event with the bases that held at its instant for its controller."""
    held = [
        i.basis for i in intervals
        if i.holds_at(p.occurred_at) and (p.controller is None or i.controller == p.controller)
    ]  # fmt: skip
    return ProcessedBasis(
        position=p.position, activity=p.activity, controller=p.controller,
        occurred_at=p.occurred_at, lawful=bool(held), bases=sorted(set(held)),
        hash=hashes[p.position],
    )  # fmt: skip
