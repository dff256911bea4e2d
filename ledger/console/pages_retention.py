"""Retention: the due and held list at an instant, and applying it after a confirmation.

Applying destroys keys, so it asks first: the form posts to a confirmation page
listing what is due, whose button posts again with ``confirm=yes``. The erasure
runs on the service's writer thread (``service.write``); the forms carry the
session's CSRF field.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.console.session import Sessions
from ledger.console.web import ConsoleRoute, ServiceLike, Words, form, html, instant, one, use
from projections.retention.apply import retention


def router(service: ServiceLike, sessions: Sessions) -> APIRouter:
    """The retention pages."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/retention")
    async def retention_(request: Request) -> Response:
        signed = sessions.require(request, "retention")
        at = instant(request.query_params.get("at"), "at")
        answer = await use(service, lambda c: retention(c.ledger, c.store, at=at))
        return html("retention.html", session=signed, answer=answer, at=at,
                    words=await use(service, Words.of))  # fmt: skip

    @pages.post("/retention/apply")
    async def retention_apply(request: Request) -> Response:
        signed = sessions.require(request, "retention_apply")
        values = await form(request)
        sessions.check_csrf(signed, one(values, "csrf"))
        at = instant(one(values, "at"), "at")
        words = await use(service, Words.of)
        if one(values, "confirm") != "yes":
            answer = await use(service, lambda c: retention(c.ledger, c.store, at=at))
            return html("retention_confirm.html", session=signed, answer=answer, at=at,
                        words=words)  # fmt: skip
        applied = await service.write(
            lambda c: retention(c.ledger, c.store, at=at, apply=True, kept=False)
        )
        return html("retention_applied.html", session=signed, answer=applied, words=words)

    return pages
