"""Disclosures and breach scoping: recipient, period, categories -> subjects and categories."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import csv
import io
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.console.session import Sessions
from ledger.console.web import ConsoleRoute, ServiceLike, Words, html, instant, read, use
from ledger.faces.times import rfc3339, uniform_times
from projections.disclosures.view import breach
from projections.queries import Views
from schemas.answers import DisclosuresAnswer

CSV_COLUMNS = ("subject", "categories", "disclosures", "first", "last")
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def scope(views: Views, query: dict[str, Any]) -> DisclosuresAnswer:
    """The breach answer of a query: ``Views.disclosures(..., by_subject=True)``.

    With several categories, the disclosures holding any of them, each subject's
    categories narrowed to those asked about.
    """
    categories: list[str] = query["categories"]
    single = categories[0] if len(categories) == 1 else None
    answer = views.disclosures(
        recipient=query["recipient"], category=single, since=query["since"],
        until=query["until"], by_subject=True,
    )  # fmt: skip
    if len(categories) < 2:  # noqa: PLR2004 - one or none: the library's own filter
        return answer
    views.known_categories(categories, field="category")
    wanted = set(categories)
    kept = [
        d.model_copy(update={"categories": sorted(wanted & set(d.categories))})
        for d in answer.disclosures
        if wanted & set(d.categories)
    ]
    return answer.model_copy(update={"disclosures": kept, "subjects": breach(kept)})


def _query(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {
        "recipient": params.get("recipient", "").strip() or None,
        "since": instant(params.get("since"), "since"),
        "until": instant(params.get("until"), "until"),
        "categories": sorted({c.strip() for c in params.getlist("category") if c.strip()}),
    }


def as_csv(answer: DisclosuresAnswer) -> str:
    """The breach summary as CSV: one row per subject (categories joined by spaces)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in answer.subjects or ():
        writer.writerow(
            (s.subject or "", " ".join(s.categories), s.disclosures, rfc3339(s.first),
             rfc3339(s.last))
        )  # fmt: skip
    return out.getvalue()


def router(service: ServiceLike, sessions: Sessions) -> APIRouter:
    """The disclosures page and its downloads."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/disclosures")
    async def disclosures(request: Request) -> Response:
        signed = sessions.require(request, "disclosures")
        query = _query(request)
        asked = bool(request.query_params)
        answer = await read(service, lambda v: scope(v, query)) if asked else None
        return html(
            "disclosures.html", session=signed, query=query, answer=answer,
            words=await use(service, Words.of), download=request.url.query,
        )  # fmt: skip

    @pages.get("/disclosures.csv")
    async def disclosures_csv(request: Request) -> Response:
        sessions.require(request, "disclosures")
        query = _query(request)
        answer = await read(service, lambda v: scope(v, query))
        return Response(
            as_csv(answer), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="disclosures.csv"'} | NO_STORE,
        )  # fmt: skip

    @pages.get("/disclosures.json")
    async def disclosures_json(request: Request) -> Response:
        sessions.require(request, "disclosures")
        query = _query(request)
        answer = await read(service, lambda v: scope(v, query))
        return Response(
            orjson.dumps(uniform_times(answer.model_dump(mode="json"))),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="disclosures.json"'} | NO_STORE,
        )  # fmt: skip

    return pages
