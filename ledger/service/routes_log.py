"""The log: the latest checkpoint, inclusion and consistency proofs, verify."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime,
# and they name dependencies built inside `router`.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from ledger.access.roles import Principal
from ledger.bootstrap import Core
from ledger.errors import NotFound
from ledger.evidence.proofs import prove_consistency, prove_inclusion
from ledger.evidence.verification import verify
from ledger.service.auth import allowed
from ledger.service.context import Service, json_answer

CHECKPOINT_TYPE = "text/plain; charset=utf-8"
MAX_POSITION = 2**53 - 1
"""The largest position or size a request may name (the contract's integer range)."""


def _checkpoint(core: Core) -> str:
    latest = core.sealer.latest()
    if latest is None:
        msg = "no checkpoint has been signed yet"
        raise NotFound(msg)
    return latest.note


def _verify(core: Core) -> dict[str, Any]:
    answer = verify(core.sealer).as_dict()
    problems = [{"rule": p["kind"], "field": None, **p} for p in answer.pop("problems")]
    return answer | {"problems": problems}


def router(service: Service) -> APIRouter:
    """The log endpoints (an auditor's and the DPO's)."""
    api = APIRouter(prefix="/v1/log")
    gate, auth = service.gate, service.auth
    Log = Annotated[Principal, Depends(allowed(auth, "log"))]

    @api.get(
        "/checkpoint", response_class=PlainTextResponse,
        summary="The latest signed checkpoint (C2SP tlog-checkpoint)",
    )  # fmt: skip
    def checkpoint(_: Log) -> Response:
        return PlainTextResponse(gate.use(_checkpoint), media_type=CHECKPOINT_TYPE)

    @api.get("/proof/inclusion", summary="ledger prove POSITION")
    def inclusion(
        _: Log,
        position: Annotated[int, Query(ge=1, le=MAX_POSITION)],
        size: Annotated[
            int | None,
            Query(ge=1, le=MAX_POSITION, description="a signed checkpoint's size; default: latest"),
        ] = None,
    ) -> Response:
        return json_answer(gate.use(lambda c: prove_inclusion(c.sealer, position, size)))

    @api.get("/proof/consistency", summary="ledger prove --consistency OLD")
    def consistency(
        _: Log,
        old: Annotated[int, Query(ge=1, le=MAX_POSITION)],
        new: Annotated[
            int | None,
            Query(ge=1, le=MAX_POSITION, description="a signed checkpoint's size; default: latest"),
        ] = None,
    ) -> Response:
        return json_answer(gate.use(lambda c: prove_consistency(c.sealer, old, new)))

    @api.get("/verify", summary="ledger verify")
    def verify_(_: Log) -> Response:
        return json_answer(gate.use(_verify))

    return api
