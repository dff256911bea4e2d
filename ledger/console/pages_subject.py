"""A subject: the register view (recorded like the API's read) and the basis timeline."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.access.records import Access, check_purpose, record_accesses, subject_categories
from ledger.bootstrap import Core
from ledger.console.session import Sessions, Signed
from ledger.console.timeline import NoticeBand, render_timeline, starting
from ledger.console.web import (
    ZONE,
    ConsoleRoute,
    ServiceLike,
    Words,
    html,
    instant,
    read,
    use,
)
from projections.queries import Views
from projections.retention.apply import retention
from schemas.answers import BasisAnswer, BasisInterval, SubjectAnswer, TrailAnswer


def _holds(core: Core, ref: str, at: datetime | None) -> list[object]:
    answer = retention(core.ledger, core.store, at=at)
    return [e for e in answer.held if e.subject == ref]


async def _register_view(
    service: ServiceLike, signed: Signed, ref: str, *, purpose: str, at: datetime | None,
    known_at: datetime | None,
) -> tuple[SubjectAnswer, list[object]]:  # fmt: skip
    stated = check_purpose(purpose, field="purpose")
    answer = await read(
        service, lambda v: v.subject(ref, at=at or v.ledger.clock.now(), known_at=known_at)
    )
    holds = await use(service, lambda c: _holds(c, ref, at))
    access = Access(
        subject=ref, categories=subject_categories(answer), purpose=stated,
        actor=signed.principal.name, token_id=signed.principal.token_id, via="http",
        what="subject",
    )  # fmt: skip
    await service.write(lambda c: record_accesses(c.ledger, [access]))
    return answer, holds


def _span(
    answers: list[BasisAnswer], trail: TrailAnswer, at: datetime
) -> tuple[datetime, datetime]:
    instants = [e.occurred_at for e in trail.events]
    for answer in answers:
        for interval in answer.timeline or ():
            instants.append(interval.since)
            if interval.until is not None:
                instants.append(interval.until)
    start = min(instants, default=at - timedelta(days=1))
    end = max([at, *instants])
    return (start, end) if end > start else (end - timedelta(days=1), end)


def _basis_page(views: Views, ref: str, at: datetime, known_at: datetime | None) -> dict[str, Any]:
    purposes = all_purposes(views)
    answers = [views.basis(ref, p, at=at, known_at=known_at, timeline=True) for p in purposes]
    trail = views.trail(ref)
    start, end = _span(answers, trail, at)
    notices = [NoticeBand(n.version, n.effective_from) for n in views.ledger.notices.versions]
    labels = {p: p.replace("_", " ").capitalize() for p in purposes}
    svg = render_timeline(answers, start=start, end=end, zone=ZONE, notices=notices, labels=labels)
    times = {e.position: e.occurred_at for e in trail.events}
    return {"answers": answers, "svg": svg, "times": times, "start": start, "end": end}


def all_purposes(views: Views) -> list[str]:
    """Every purpose a published notice version defines, the latest version's first."""
    seen: list[str] = []
    for notice in reversed(views.ledger.notices.versions):
        seen.extend(p.id for p in notice.definition.purposes if p.id not in seen)
    return seen


def why_not(answer: BasisAnswer) -> BasisInterval | None:
    """The interval that ended last, when the purpose has no basis at the instant asked."""
    return None if answer.lawful else answer.last_ended


async def _subject_page(
    service: ServiceLike, signed: Signed, base: dict[str, Any], query: Mapping[str, str]
) -> Response:
    """The find form, or the register view once a dpo has stated why it reads it."""
    if not base["ref"]:
        return html("find.html", **base)
    if not signed.may("subject"):
        return html("find.html", 403, **base, withheld=True)
    purpose = query.get("purpose", "").strip()
    if not purpose:
        return html("find.html", 400 if "purpose" in query else 200, **base,
                    need_purpose=True, purpose_missing="purpose" in query)  # fmt: skip
    answer, holds = await _register_view(
        service, signed, base["ref"], purpose=purpose, at=base["at"], known_at=base["known_at"]
    )
    return html("subject.html", **base, answer=answer, holds=holds, purpose=purpose)


def router(service: ServiceLike, sessions: Sessions) -> APIRouter:
    """The subject's pages."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/subjects")
    async def subject(request: Request) -> Response:
        signed = sessions.require(request, "trail")
        query = request.query_params
        base: dict[str, Any] = {
            "session": signed, "ref": query.get("ref", "").strip(),
            "at": instant(query.get("at"), "at"),
            "known_at": instant(query.get("known_at"), "known_at"),
            "words": await use(service, Words.of),
        }  # fmt: skip
        return await _subject_page(service, signed, base, query)

    @pages.get("/subjects/{ref}/basis")
    async def basis(request: Request, ref: str) -> Response:
        signed = sessions.require(request, "basis")
        sessions.require(request, "trail")
        query = request.query_params
        asked_at, known_at = (
            instant(query.get("at"), "at"),
            instant(query.get("known_at"), "known_at"),
        )
        words = await use(service, Words.of)

        def question(views: Views) -> dict[str, Any]:
            return _basis_page(views, ref, asked_at or views.ledger.clock.now(), known_at)

        found = await read(service, question)
        return html(
            "basis.html", session=signed, ref=ref, at=asked_at, known_at=known_at,
            words=words, why_not=why_not, starting=starting, **found,
        )  # fmt: skip

    return pages
