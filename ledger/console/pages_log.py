"""The log's health: the latest signed checkpoint, verify on demand, the access log, proofs."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.bootstrap import Core
from ledger.console.session import Sessions
from ledger.console.web import ConsoleRoute, ServiceLike, html, instant, read, use
from ledger.errors import InvalidRequest, Rule
from ledger.evidence.proofs import prove_inclusion
from ledger.evidence.verification import verify

MAX_DIGITS = 18
"""The longest position asked for (positions are 63-bit integers)."""


def _position(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS) or int(value) < 1:
        msg = "the position must be a whole number from 1"
        raise InvalidRequest(msg, rule=Rule.INVALID_VALUE, field="position")
    return int(value)


def checkpoint(core: Core) -> dict[str, Any] | None:
    """The latest signed checkpoint: size, root (hex), signed note and when it was signed."""
    latest = core.sealer.latest()
    if latest is None:
        return None
    rows = core.sealer.store.query(
        "SELECT signed_at FROM {t}ledger_checkpoints WHERE size = ?", (latest.size,)
    )
    signed_at = (
        datetime.fromtimestamp(int(rows[0]["signed_at"]) / 1_000_000, tz=UTC) if rows else None
    )
    return {
        "size": latest.size, "root": latest.root.hex(), "note": latest.note,
        "signed_at": signed_at,
    }  # fmt: skip


def router(service: ServiceLike, sessions: Sessions) -> APIRouter:
    """The log page and the inclusion proofs."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/log")
    async def log(request: Request) -> Response:
        signed = sessions.require(request, "log")
        query = request.query_params
        since = instant(query.get("since"), "since")
        head = await use(service, checkpoint)
        report = (
            await use(service, lambda c: verify(c.sealer).as_dict()) if "verify" in query else None
        )
        accesses = (
            await read(service, lambda v: v.access_log(since, None))
            if signed.may("access_log")
            else None
        )
        return html(
            "log.html", session=signed, head=head, report=report, accesses=accesses, since=since
        )

    @pages.get("/proof/{position}")
    async def proof(request: Request, position: str) -> Response:
        signed = sessions.require(request, "log")
        number = _position(position)
        answer = await use(service, lambda c: prove_inclusion(c.sealer, number))
        return html("proof.html", session=signed, proof=answer, position=number)

    return pages
