"""What every console page shares: templates, the register's words, times, forms, errors.

Pages are Jinja2 templates rendered on the server (autoescaped). A page refused
(no session, a role that may not) or a ledger error becomes an HTML page with the
right status, worded like the service's problems and never echoing input. Times
are shown in the register's time zone (Europe/Helsinki) with their offset;
pickers take that local time or an RFC 3339 instant with an offset.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from ledger.access.roles import Principal
from ledger.bootstrap import Core
from ledger.console.timeline import local
from ledger.domain.basis import HELSINKI
from ledger.errors import (
    ConfigurationError,
    InvalidRequest,
    LedgerError,
    NotFound,
    Rule,
    WriteConflict,
)
from ledger.faces.times import rfc3339
from projections.queries import Views
from schemas.base import in_window

T = TypeVar("T")
_log = logging.getLogger("ledger.service.console")
ZONE = HELSINKI
"""The register's time zone: every time on a page is shown in it, with the offset."""


class GateLike(Protocol):
    """The service's one lock around the core (``ledger.service.gate.Gate``)."""

    core: Core

    def use(self, work: Callable[[Core], T]) -> T:
        """Run ``work`` with the core, alone."""

    def read(self, question: Callable[[Views], T]) -> T:
        """Answer from the views, caught up first."""


class AuthLike(Protocol):
    """The service's token check (``ledger.service.auth.Authenticator``)."""

    def check(self, token: str) -> Principal | None:
        """The principal of a token; None when unknown, revoked or expired."""


class ServiceLike(Protocol):
    """What the console needs of the service (``ledger.service.context.Service``)."""

    @property
    def gate(self) -> GateLike:
        """The guarded core."""

    @property
    def auth(self) -> AuthLike:
        """The tokens the API accepts, checked the same way for the console."""

    def write(self, work: Callable[[Core], T]) -> Awaitable[T]:
        """Run a write on the writer thread."""


class Refused(Exception):
    """A page that may not be shown: its status and a sentence saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SignInNeeded(Exception):
    """No valid session: the page sends the reader to the sign-in form."""


ENV = Environment(
    loader=PackageLoader("ledger.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def shown_time(at: datetime | None) -> str:
    """An instant in the register's time zone with its offset; empty when none."""
    return "" if at is None else local(at, ZONE)


def picker_value(at: datetime | None) -> str:
    """An instant as a ``datetime-local`` input holds it (Helsinki time, to the second)."""
    return "" if at is None else at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S")


ENV.filters["local"] = shown_time
ENV.filters["picker"] = picker_value
ENV.filters["utc"] = lambda at: "" if at is None else rfc3339(at)


@dataclass(frozen=True, slots=True)
class Words:
    """The register's own words for its ids (the latest notice version that names each)."""

    purposes: Mapping[str, str]
    categories: Mapping[str, str]
    sources: Mapping[str, str]
    recipients: Mapping[str, str]
    controllers: Mapping[str, str]

    @classmethod
    def of(cls, core: Core) -> Words:
        """Read from every published notice version, later versions winning."""
        purposes: dict[str, str] = {}
        categories: dict[str, str] = {}
        sources: dict[str, str] = {}
        recipients: dict[str, str] = {}
        controllers: dict[str, str] = {}
        for notice in core.ledger.notices.versions:
            definition = notice.definition
            purposes.update({p.id: p.description for p in definition.purposes})
            categories.update({c.id: c.description for c in definition.categories})
            sources.update({s.id: s.description for s in definition.sources})
            recipients.update({r.id: r.name for r in definition.recipients})
            controllers.update({c.business_id: c.name for c in definition.controllers})
        return cls(purposes, categories, sources, recipients, controllers)

    def purpose(self, code: str | None) -> str:
        """A purpose's description, or its id when the register gives none."""
        return "" if code is None else self.purposes.get(code, code)

    def category(self, code: str | None) -> str:
        """A category's description, or its id."""
        return "" if code is None else self.categories.get(code, code)

    def source(self, code: str | None) -> str:
        """A source's description, or its id."""
        return "" if code is None else self.sources.get(code, code)

    def controller(self, business_id: str | None) -> str:
        """A controller's name, or its business id."""
        return "" if business_id is None else self.controllers.get(business_id, business_id)

    def recipient(self, code: str | None) -> str:
        """A recipient's name, or its id."""
        return "" if code is None else self.recipients.get(code, code)


PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Every page: nothing loaded from elsewhere, no script, never framed (a confirmation
button cannot be clicked through another site), no referrer (references and purposes
ride in query strings), never cached (pages may hold personal data)."""

EXPORT_HEADERS = PAGE_HEADERS | {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    )
}
"""The access package: the export's own page, whose one stylesheet is inline."""


def html(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A template rendered to a page."""
    return HTMLResponse(
        ENV.get_template(name).render(**context), status_code=status, headers=PAGE_HEADERS
    )


def error_page(status: int, message: str, request: Request | None = None) -> HTMLResponse:
    """A refusal or failure as a page (its heading says which)."""
    titles = {400: "The request is not valid", 401: "Sign in needed", 403: "Not for this role",
              404: "Not found", 409: "Conflict", 503: "Unavailable"}  # fmt: skip
    session = getattr(request.state, "console", None) if request is not None else None
    return html(
        "error.html", status, title=titles.get(status, "Something went wrong"),
        message=message, session=session,
    )  # fmt: skip


def _status(error: LedgerError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidRequest | ConfigurationError):
        return 400
    return 503 if isinstance(error, WriteConflict) else 409


class ConsoleRoute(APIRoute):
    """A console route: refusals and ledger errors become pages, never tracebacks."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped."""
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                return RedirectResponse("/ui/", status_code=303)
            except Refused as refusal:
                return error_page(refusal.status, refusal.message, request)
            except LedgerError as error:
                return error_page(_status(error), str(error), request)
            except (HTTPException, RequestValidationError):
                raise  # the service's own handlers answer these
            except Exception as error:  # noqa: BLE001 - a page, never a traceback
                _log.error("console: unexpected failure: %s", type(error).__name__)
                _log.debug("console: unexpected failure", exc_info=True)
                detail = "unexpected failure; the service's log names it"
                return error_page(500, detail, request)

        return run


async def read(service: ServiceLike, question: Callable[[Views], T]) -> T:
    """A question answered off the event loop, under the service's lock."""
    return await run_in_threadpool(service.gate.read, question)


async def use(service: ServiceLike, work: Callable[[Core], T]) -> T:
    """Work with the core off the event loop, under the service's lock."""
    return await run_in_threadpool(service.gate.use, work)


async def form(request: Request) -> dict[str, list[str]]:
    """A URL-encoded form body (the only kind the console's forms send)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qs(body, keep_blank_values=True)


def one(values: Mapping[str, list[str]], name: str) -> str:
    """A form field's value, stripped; empty when not sent."""
    found = values.get(name) or [""]
    return found[0].strip()


def instant(value: str | None, field: str) -> datetime | None:
    """A picker's instant: Helsinki time without an offset, or RFC 3339 with one.

    Raises:
        InvalidRequest: the value is not a date and time (the value is not echoed).
    """
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        msg = (
            f"the {field} is not a date and time: give YYYY-MM-DDTHH:MM in Helsinki time,"
            " or RFC 3339 with an offset"
        )
        raise InvalidRequest(msg, rule=Rule.INVALID_VALUE, field=field) from None
    aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ZONE)
    if not in_window(aware):
        msg = f"the {field} must lie from 1900-01-01 up to (not including) 9000-01-01"
        raise InvalidRequest(msg, rule=Rule.INVALID_VALUE, field=field)
    return aware
