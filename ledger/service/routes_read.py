"""Questions: check, basis, trail, lineage, findings, disclosures, retention, access log.

Each endpoint makes the call its command makes (``ledger.cli.policy``,
``ledger.cli.read``, ``ledger.cli.rights``) and answers the same JSON. The
answers that show decrypted personal data are in ``routes_personal``.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime,
# and they name dependencies built inside `router`.

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from ledger.access.roles import Principal
from ledger.faces.problems import check_problems
from ledger.service.auth import allowed
from ledger.service.context import Instant, Service, json_answer
from ledger.standards.prov import lineage_prov
from projections.check import check
from projections.retention.apply import retention
from schemas.answers import (
    AccessLogAnswer,
    BasisAnswer,
    DisclosuresAnswer,
    FindingsAnswer,
    LineageAnswer,
    ProvLineage,
    RetentionAnswer,
    TrailAnswer,
)
from schemas.base import Timestamp


class CheckRequest(BaseModel):
    """``POST /v1/check``: what ``ledger check`` takes."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    purpose: str
    recipient: str | None = None
    categories: list[str] | None = None
    at: Timestamp | None = None
    controller: str | None = None


def router(service: Service) -> APIRouter:
    """The question endpoints."""
    api = APIRouter(prefix="/v1")
    gate, auth = service.gate, service.auth

    @api.post("/check", summary="May this be done now? (ledger check)")
    def check_(
        body: CheckRequest, _: Annotated[Principal, Depends(allowed(auth, "check"))]
    ) -> Response:
        answer = gate.read(
            lambda v: check(
                v, body.subject, body.purpose, at=body.at or v.ledger.clock.now(),
                recipient=body.recipient, categories=body.categories or None,
                controller=body.controller,
            )
        )  # fmt: skip
        return json_answer(
            answer.model_dump(mode="json") | {"problem_details": check_problems(answer)}
        )

    @api.get("/subjects/{ref}/basis", response_model=BasisAnswer, summary="ledger basis")
    def basis(
        *,
        ref: str,
        purpose: str,
        _: Annotated[Principal, Depends(allowed(auth, "basis"))],
        at: Instant = None,
        known_at: Instant = None,
        timeline: bool = False,
        controller: str | None = None,
    ) -> Response:
        answer = gate.read(
            lambda v: v.basis(
                ref, purpose, at=at or v.ledger.clock.now(), known_at=known_at,
                timeline=timeline, controller=controller,
            )
        )  # fmt: skip
        return json_answer(answer.model_dump(mode="json", exclude_none=False))

    @api.get("/subjects/{ref}/trail", response_model=TrailAnswer, summary="ledger trail")
    def trail(ref: str, _: Annotated[Principal, Depends(allowed(auth, "trail"))]) -> Response:
        return json_answer(gate.read(lambda v: v.trail(ref)).model_dump(mode="json"))

    @api.get(
        "/subjects/{ref}/lineage",
        response_model=LineageAnswer | ProvLineage,
        summary="ledger lineage [--format prov]",
        description=(
            "`format=json` (the default): as `ledger lineage --json`. `format=prov`: as"
            " `ledger lineage --format prov`, the same lineage as a W3C PROV-JSON document"
            " (entities, activities, agents; never a value)."
        ),
    )
    def lineage(
        ref: str,
        _: Annotated[Principal, Depends(allowed(auth, "lineage"))],
        field: str | None = None,
        format: Literal["json", "prov"] = "json",
    ) -> Response:
        if format == "prov":
            return json_answer(
                gate.read(lambda v: lineage_prov(v.lineage(ref, field), v.ledger.notices))
            )
        return json_answer(gate.read(lambda v: v.lineage(ref, field)).model_dump(mode="json"))

    @api.get("/findings", response_model=FindingsAnswer, summary="ledger findings")
    def findings(
        _: Annotated[Principal, Depends(allowed(auth, "findings"))],
        since: Instant = None,
        known_at: Instant = None,
    ) -> Response:
        answer = gate.read(lambda v: v.findings(since, known_at))
        return json_answer(answer.model_dump(mode="json"))

    @api.get("/disclosures", response_model=DisclosuresAnswer, summary="ledger disclosures")
    def disclosures(
        *,
        _: Annotated[Principal, Depends(allowed(auth, "disclosures"))],
        recipient: str | None = None,
        subject: str | None = None,
        category: str | None = None,
        since: Instant = None,
        until: Instant = None,
        breach: bool = False,
    ) -> Response:
        answer = gate.read(
            lambda v: v.disclosures(
                recipient=recipient, subject=subject, category=category, since=since,
                until=until, by_subject=breach,
            )
        )  # fmt: skip
        return json_answer(answer.model_dump(mode="json"))

    @api.get("/retention", response_model=RetentionAnswer, summary="ledger retention")
    def retention_(
        _: Annotated[Principal, Depends(allowed(auth, "retention"))],
        at: Instant = None,
        all: bool = False,
    ) -> Response:
        answer = gate.use(lambda c: retention(c.ledger, c.store, at=at, kept=all))
        return json_answer(answer.model_dump(mode="json"))

    @api.get("/access-log", response_model=AccessLogAnswer, summary="ledger access-log")
    def access_log(
        _: Annotated[Principal, Depends(allowed(auth, "access_log"))],
        since: Instant = None,
        subject: str | None = None,
    ) -> Response:
        return json_answer(
            gate.read(lambda v: v.access_log(since, subject)).model_dump(mode="json")
        )

    return api
