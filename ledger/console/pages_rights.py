"""Rights work on one subject: the access package, erasure with the holds it leaves.

Erasure destroys keys, so it asks first: the form posts to a confirmation page,
whose button posts again with ``confirm=yes``. Every write runs on the service's
writer thread (``service.write``); every form carries the session's CSRF field.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.access.records import Access, check_purpose, export_categories, record_accesses
from ledger.bootstrap import Core
from ledger.console.session import Sessions, Signed
from ledger.console.web import (
    EXPORT_HEADERS,
    ConsoleRoute,
    ServiceLike,
    Words,
    form,
    html,
    one,
    read,
    use,
)
from ledger.domain.rules import shown_name
from ledger.errors import InvalidRequest, Rule
from ledger.faces.problems import with_seal
from ledger.rights.erasure import erase, erasure_answer
from projections.export.build import build_export
from projections.export.html import render_html
from projections.retention.apply import retention


def _categories(core: Core, ref: str) -> list[str]:
    """The subject's categories (from lineage: no value is read)."""
    lineage = core.views().lineage(ref)
    return sorted({d.category for d in lineage.data})


def _holds(core: Core, ref: str) -> list[Any]:
    return [e for e in retention(core.ledger, core.store).held if e.subject == ref]


def _reason(values: dict[str, list[str]]) -> str:
    reason = one(values, "reason")
    if not reason:
        msg = "the reason is required: why the subject's data is erased"
        raise InvalidRequest(msg, rule=Rule.MISSING_FIELD, field="reason")
    return reason


def _chosen(values: dict[str, list[str]], words: Words) -> list[str]:
    """The categories ticked, each one the register defines (else refused, never echoed)."""
    chosen = sorted({c for c in values.get("category", []) if c})
    unknown = [c for c in chosen if c not in words.categories]
    if unknown:
        names = ", ".join(shown_name(c) for c in unknown)
        msg = f"unknown category {names}: no notice version defines it"
        raise InvalidRequest(msg, rule=Rule.UNKNOWN_CATEGORY, field="category")
    return chosen


async def _export(
    service: ServiceLike, signed: Signed, ref: str, purpose: str, lang: str | None
) -> str:
    stated = check_purpose(purpose, field="purpose")
    document = await read(service, lambda v: build_export(v, ref))
    access = Access(
        subject=ref, categories=export_categories(document), purpose=stated,
        actor=signed.principal.name, token_id=signed.principal.token_id, via="http",
        what="export",
    )  # fmt: skip
    await service.write(lambda c: record_accesses(c.ledger, [access]))
    return render_html(document, lang)


def router(service: ServiceLike, sessions: Sessions) -> APIRouter:
    """The export and erasure pages."""
    pages = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

    @pages.get("/subjects/{ref}/export")
    async def export(request: Request, ref: str) -> Response:
        signed = sessions.require(request, "export")
        purpose = request.query_params.get("purpose", "").strip()
        if not purpose:
            return html("export.html", session=signed, ref=ref,
                        missing="purpose" in request.query_params)  # fmt: skip
        lang = request.query_params.get("lang")  # en or fi; else the register's language
        page = await _export(service, signed, ref, purpose, lang)
        return HTMLResponse(page, headers=EXPORT_HEADERS)

    @pages.get("/subjects/{ref}/erase")
    async def erase_form(request: Request, ref: str) -> Response:
        signed = sessions.require(request, "erase")
        categories = await use(service, lambda c: _categories(c, ref))
        holds = await use(service, lambda c: _holds(c, ref))
        return html(
            "erase.html", session=signed, ref=ref, categories=categories, holds=holds,
            words=await use(service, Words.of),
        )  # fmt: skip

    @pages.post("/subjects/{ref}/erase")
    async def erase_(request: Request, ref: str) -> Response:
        signed = sessions.require(request, "erase")
        values = await form(request)
        sessions.check_csrf(signed, one(values, "csrf"))
        reason = _reason(values)
        words = await use(service, Words.of)
        chosen = _chosen(values, words)
        if one(values, "confirm") != "yes":
            return html("erase_confirm.html", session=signed, ref=ref, reason=reason,
                        chosen=chosen, words=words)  # fmt: skip

        def work(core: Core) -> dict[str, Any]:
            result = erase(
                core.ledger, ref, reason=reason, categories=chosen or None,
                scope="category" if chosen else "subject", actor=signed.principal.name,
            )  # fmt: skip
            return with_seal(core, erasure_answer(result).model_dump(mode="json"))

        answer = await service.write(work)
        return html("erased.html", session=signed, answer=answer, words=words)

    return pages
