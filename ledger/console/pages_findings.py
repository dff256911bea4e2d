"""Findings (filtered by rule, subject, recipient and period) and the events behind each."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.console.session import Sessions
from ledger.console.web import ConsoleRoute, Refused, ServiceLike, Words, html, instant, read, use
from ledger.errors import NotFound
from projections.queries import Views
from schemas.answers import FindingAnswer

FILTERS = ("rule", "subject", "recipient")


def matches(
    finding: FindingAnswer, wanted: dict[str, str], since: datetime | None, until: datetime | None
) -> bool:
    """Whether a finding passes the page's filters (empty ones pass everything).

    The period is of the judged event's time (``occurred_at``): from ``since`` on,
    before ``until``.
    """
    if since is not None and finding.occurred_at < since:
        return False
    if until is not None and finding.occurred_at >= until:
        return False
    return all(not value or getattr(finding, name) == value for name, value in wanted.items())


def _events(views: Views, finding: FindingAnswer) -> dict[int, datetime]:
    """When each event of the finding's subject occurred (none once the subject is erased)."""
    if finding.subject is None:
        return {}
    try:
        trail = views.trail(finding.subject)
    except NotFound:
        return {}
    return {e.position: e.occurred_at for e in trail.events}


def router(service: ServiceLike, sessions: Sessions) -> APIRouter:
    """The findings pages."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/findings")
    async def findings(request: Request) -> Response:
        signed = sessions.require(request, "findings")
        query = request.query_params
        since, until = instant(query.get("since"), "since"), instant(query.get("until"), "until")
        wanted = {name: query.get(name, "").strip() for name in FILTERS}
        answer = await read(service, lambda v: v.findings(None, None))
        shown = [f for f in answer.findings if matches(f, wanted, since, until)]
        rules = sorted({f.rule for f in answer.findings})
        return html(
            "findings.html", session=signed, findings=shown, rules=rules, wanted=wanted,
            since=since, until=until, words=await use(service, Words.of),
            total=len(answer.findings),
        )  # fmt: skip

    @pages.get("/findings/{position}")
    async def finding(request: Request, position: str) -> Response:
        signed = sessions.require(request, "findings")

        def question(views: Views) -> tuple[FindingAnswer | None, dict[int, datetime]]:
            found = next(
                (f for f in views.findings(None, None).findings if str(f.position) == position),
                None,
            )
            return found, ({} if found is None else _events(views, found))

        found, times = await read(service, question)
        if found is None:
            raise Refused(404, "no finding was recorded at this position")
        return html(
            "finding.html", session=signed, finding=found, times=times,
            words=await use(service, Words.of),
        )  # fmt: skip

    return pages
