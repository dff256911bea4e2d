"""Writes: appends (group commit), erasure, retention apply.

Appends go to the writer's group commit; an erasure and a retention run are
single jobs on the same thread. Every answer goes out after its commit.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime,
# and they name dependencies built inside `router`.

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ledger.access.roles import Principal
from ledger.faces.problems import problem, with_seal
from ledger.rights.erasure import erase, erasure_answer
from ledger.service.auth import allowed, refuse_lines
from ledger.service.context import Instant, Service, json_answer
from ledger.service.problems import Problem
from ledger.service.writer import Line
from projections.retention.apply import retention
from schemas.answers import AppendAnswer, ErasureAnswer, RetentionAnswer

NDJSON = "application/x-ndjson"
EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "description": "One all-or-nothing batch: NDJSON lines, or a JSON array of envelopes.",
        "content": {
            NDJSON: {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}
"""The request body of ``POST /v1/events``, read by hand (two media types) and so described."""


class SealedAppend(AppendAnswer):
    """``POST /v1/events``: the append answer, and why sealing failed if it did."""

    sealing_problem: dict[str, Any] | None = Field(
        None, description="The call committed but sealing it failed: do not send it again."
    )


class SealedErasure(ErasureAnswer):
    """``POST /v1/subjects/{ref}/erasure``: ``ledger erase --json``, with its seal note."""

    sealing_problem: dict[str, Any] | None = Field(
        None, description="The erasure committed but sealing it failed."
    )


class ErasureRequest(BaseModel):
    """``POST /v1/subjects/{ref}/erasure``: what ``ledger erase`` takes."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    categories: list[str] | None = None


def request_lines(body: bytes, content_type: str) -> list[Line]:
    """The lines of an append request: NDJSON, or a JSON array of envelopes."""
    if content_type.split(";", maxsplit=1)[0].strip().lower() != "application/json":
        raw = body.split(b"\n")
        return list(raw[:-1] if raw and not raw[-1].strip() else raw)
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError:
        detail = "the body is not JSON (send a JSON array of envelopes, or NDJSON)"
        raise Problem(400, detail, [problem("invalid_json", detail)]) from None
    if not isinstance(items, list):
        detail = "a JSON body must be an array of envelopes"
        raise Problem(400, detail, [problem("not_an_array", detail)])
    return [i if isinstance(i, dict) else orjson.dumps(i) for i in items]


def _as_mapping(line: Line) -> Mapping[str, Any] | None:
    if isinstance(line, Mapping):
        return line
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # the ledger refuses it, naming the line
    return value if isinstance(value, dict) else None


async def append_answer(service: Service, request: Request, principal: Principal) -> Response:
    """The answer to an append request whose principal may append.

    The lines (NDJSON or a JSON array), a service token's limits, the writer's group
    commit, the append answer: the FastAPI route and ``LeanAppend`` both end here.
    """
    lines = request_lines(await request.body(), request.headers.get("content-type", NDJSON))
    if principal.types is not None or principal.sources is not None:
        refuse_lines(principal, [_as_mapping(line) for line in lines])
    return json_answer(await asyncio.wrap_future(service.writer.append(lines)))


def router(service: Service) -> APIRouter:
    """The write endpoints."""
    api = APIRouter(prefix="/v1")
    auth = service.auth

    @api.post(
        "/events", response_model=SealedAppend, openapi_extra=EVENTS_BODY,
        summary="ledger append (one all-or-nothing batch)",
    )  # fmt: skip
    async def events(
        request: Request, principal: Annotated[Principal, Depends(allowed(auth, "append"))]
    ) -> Response:
        return await append_answer(service, request, principal)

    @api.post("/subjects/{ref}/erasure", response_model=SealedErasure, summary="ledger erase")
    async def erasure(
        ref: str,
        body: ErasureRequest,
        principal: Annotated[Principal, Depends(allowed(auth, "erase"))],
    ) -> Response:
        categories = body.categories or None

        def work(core: Any) -> dict[str, Any]:
            result = erase(
                core.ledger, ref, reason=body.reason, categories=categories,
                scope="category" if categories else "subject", actor=principal.name,
            )  # fmt: skip
            return with_seal(core, erasure_answer(result).model_dump(mode="json"))

        return json_answer(await service.write(work))

    @api.post(
        "/retention/apply", response_model=RetentionAnswer, summary="ledger retention --apply"
    )
    async def retention_apply(
        _: Annotated[Principal, Depends(allowed(auth, "retention_apply"))],
        at: Instant = None,
    ) -> Response:
        answer = await service.write(
            lambda c: retention(c.ledger, c.store, at=at, apply=True, kept=False)
        )
        return json_answer(answer.model_dump(mode="json"))

    return api
