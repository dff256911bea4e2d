"""Answers that show decrypted personal data: the subject view and the export.

Each needs ``X-Access-Purpose`` (400 without it) and is recorded in the
subject's stream (``ledger.access.records``, through the writer) before the
answer is sent: when recording fails, nothing is shown. An auditor never gets
these (403).
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime,
# and they name dependencies built inside `router`.

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from ledger.access.records import (
    Access,
    check_purpose,
    export_categories,
    record_accesses,
    subject_categories,
)
from ledger.access.roles import Principal
from ledger.faces.problems import problem
from ledger.service.auth import allowed
from ledger.service.context import Instant, Service, json_answer
from ledger.service.problems import Problem
from projections.export.build import build_export
from projections.export.html import render_html
from schemas.answers import SubjectAnswer

PURPOSE_HEADER = "X-Access-Purpose"
Purpose = Annotated[
    str | None,
    Header(alias=PURPOSE_HEADER, description="Why the data is read; recorded with the read."),
]


def stated_purpose(purpose: str | None) -> str:
    """The purpose the reader stated (400 when missing or not a printable line)."""
    if purpose is None:
        detail = f"reading personal data needs the {PURPOSE_HEADER} header: why it is read"
        raise Problem(400, detail, [problem("missing_access_purpose", detail, PURPOSE_HEADER)])
    return check_purpose(purpose, field=PURPOSE_HEADER)


async def _record(
    service: Service, principal: Principal, ref: str, what: str, *, categories: tuple[str, ...],
    purpose: str,
) -> None:  # fmt: skip
    access = Access(
        subject=ref, categories=categories, purpose=purpose, actor=principal.name,
        token_id=principal.token_id, via="http", what=what,
    )  # fmt: skip
    await service.write(lambda c: record_accesses(c.ledger, [access]))


def router(service: Service) -> APIRouter:
    """The endpoints that show decrypted personal data."""
    api = APIRouter(prefix="/v1")
    gate, auth = service.gate, service.auth

    @api.get("/subjects/{ref}", response_model=SubjectAnswer, summary="ledger subject")
    async def subject(
        ref: str,
        principal: Annotated[Principal, Depends(allowed(auth, "subject"))],
        purpose: Purpose = None,
        at: Instant = None,
        known_at: Instant = None,
    ) -> Response:
        stated = stated_purpose(purpose)
        answer = await run_in_threadpool(
            gate.read,
            lambda v: v.subject(ref, at=at or v.ledger.clock.now(), known_at=known_at),
        )
        await _record(
            service, principal, ref, "subject", categories=subject_categories(answer),
            purpose=stated,
        )  # fmt: skip
        return json_answer(answer.model_dump(mode="json"))

    @api.get(
        "/subjects/{ref}/export", summary="ledger export (Art. 15, Art. 20)",
        responses={200: {"content": {
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        }}},
    )  # fmt: skip
    async def export(
        ref: str,
        principal: Annotated[Principal, Depends(allowed(auth, "export"))],
        purpose: Purpose = None,
        format: Literal["json", "html"] = "json",
        lang: Annotated[
            Literal["en", "fi"] | None,
            Query(description="The page's language (html); default: the register's language."),
        ] = None,
    ) -> Response:
        stated = stated_purpose(purpose)
        document = await run_in_threadpool(gate.read, lambda v: build_export(v, ref))
        await _record(
            service, principal, ref, "export", categories=export_categories(document),
            purpose=stated,
        )  # fmt: skip
        if format == "html":
            return HTMLResponse(render_html(document, lang))
        return json_answer(document)

    return api
