"""RFC 9457 problem details: every error the service answers, one shape.

``application/problem+json`` with ``type``, ``title``, ``status``, ``detail`` and
``errors``: the command line's problem objects (``rule``, ``field``, ``message``;
a refused line's also ``line`` and ``type``). A 5xx never carries a traceback,
a driver's text or personal data.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
import psycopg
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from ledger.errors import (
    BatchRejected,
    ConfigurationError,
    KeyUnavailable,
    LedgerError,
    NotFound,
    NotInitialised,
    StoreError,
    VerificationFailed,
    WriteConflict,
)
from ledger.faces.problems import error_field, error_rule, problem
from ledger.persistence.store import StoreConfig, store_failure

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "urn:ledger:problem:"
"""Problem ``type`` URIs: this prefix and the rule of the first error (or the status)."""

RETRY_AFTER_CONFLICT = "1"

LEDGER_STATUS: tuple[tuple[type[LedgerError], int], ...] = (
    (BatchRejected, 422),
    (NotFound, 404),
    (VerificationFailed, 500),
    (KeyUnavailable, 503),
    (NotInitialised, 503),
    (ConfigurationError, 400),
    (WriteConflict, 503),
    (StoreError, 503),
)
"""The status of an error the ledger raised on purpose (the first class that matches)."""

DEBUG_ENV = "LEDGER_DEBUG"
"""Set to 1 to log the traceback of an unexpected failure (never sent to the client)."""

_log = logging.getLogger("ledger.service")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: what went wrong, with the command line's problem objects."""

    type: str = Field(description="urn:ledger:problem: and the rule of the first error.")
    title: str = Field(description="The status's phrase.")
    status: int
    detail: str
    errors: list[dict[str, Any]] = Field(
        description="Problem objects: rule, field, message (a refused line: line, type too)."
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {PROBLEM_TYPE: {"schema": ProblemDetails.model_json_schema()}},
    }
    for status, description in (
        (400, "Malformed request"), (401, "No valid token"), (403, "Not for this token"),
        (404, "Not found"), (413, "Body too large"), (422, "Events rejected: nothing appended"),
        (429, "Too many requests for this token"), (500, "Unexpected failure"),
        (503, "Store unavailable, or a write conflict: retry"),
    )
}  # fmt: skip
"""Every problem answer, as ``/openapi.json`` describes it for each operation."""


class Problem(HTTPException):
    """An error to answer as problem details (raised by the service's own checks)."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[Mapping[str, Any]] = (),
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail, dict(headers or {}))
        self.errors = [dict(e) for e in errors]


def problem_response(
    status: int,
    detail: str,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem details response."""
    rule = str(errors[0]["rule"]) if errors else str(status)
    body = {
        "type": TYPE_BASE + rule,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "errors": list(errors),
    }
    return Response(orjson.dumps(body), status, dict(headers or {}), media_type=PROBLEM_TYPE)


def ledger_problem(error: LedgerError) -> Response:
    """The answer to an error the ledger raised on purpose."""
    status = next((s for kind, s in LEDGER_STATUS if isinstance(error, kind)), 500)
    if isinstance(error, BatchRejected):
        errors = [v.as_dict() for v in error.violations]
        return problem_response(status, f"nothing was appended: {error}", errors)
    headers = (
        {"Retry-After": RETRY_AFTER_CONFLICT} if status == HTTPStatus.SERVICE_UNAVAILABLE else None
    )
    errors = [problem(error_rule(error), str(error), error_field(error))]
    return problem_response(status, str(error), errors, headers)


def _validation_problem(error: RequestValidationError) -> Response:
    """A malformed request (query, path or body): 400 naming each field, never its value."""
    errors = []
    for each in error.errors():
        where = [str(p) for p in each.get("loc", ())]
        field = ".".join(where[1:]) if len(where) > 1 else ".".join(where) or None
        errors.append(problem(str(each.get("type", "invalid_value")), str(each["msg"]), field))
    return problem_response(400, "the request is malformed", errors)


def http_problem(error: HTTPException) -> Response:
    """The answer to a ``Problem`` (or to the framework's own HTTP errors)."""
    errors = getattr(error, "errors", None)
    if errors is None:
        errors = [problem(_status_rule(error.status_code), str(error.detail))]
    return problem_response(error.status_code, str(error.detail), errors, error.headers)


DRIVER_ERRORS: tuple[type[Exception], ...] = (PersistenceError, psycopg.Error, sqlite3.Error)
"""Failures of a driver or of the library's persistence: answered scrubbed (``store_failure``)."""


def answer_error(error: Exception, store: StoreConfig) -> Response:
    """Any error as problem details, as the installed handlers answer it."""
    if isinstance(error, HTTPException):
        return http_problem(error)
    if isinstance(error, LedgerError):
        return ledger_problem(error)
    if isinstance(error, DRIVER_ERRORS):
        return ledger_problem(store_failure(store, error))
    log_unexpected(error)
    return unexpected_problem()


def install_handlers(app: FastAPI, store: StoreConfig) -> None:
    """Answer every error as problem details (``store`` scrubs driver failures)."""

    async def on_problem(_: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)  # noqa: S101 - registered for it
        return http_problem(error)

    async def on_ledger(_: Request, error: Exception) -> Response:
        assert isinstance(error, LedgerError)  # noqa: S101 - registered for it
        return ledger_problem(error)

    async def on_validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for it
        return _validation_problem(error)

    async def on_driver(_: Request, error: Exception) -> Response:
        return ledger_problem(store_failure(store, error))

    async def on_unexpected(_: Request, error: Exception) -> Response:
        log_unexpected(error)
        return unexpected_problem()

    app.add_exception_handler(HTTPException, on_problem)
    app.add_exception_handler(LedgerError, on_ledger)
    app.add_exception_handler(RequestValidationError, on_validation)
    for driver in DRIVER_ERRORS:
        app.add_exception_handler(driver, on_driver)
    app.add_exception_handler(Exception, on_unexpected)


def log_unexpected(error: BaseException) -> None:
    """Log a failure the ledger did not raise on purpose: its type only.

    Its message may hold anything (personal data too); with LEDGER_DEBUG=1 the
    traceback goes to the service's log. Never to the client.
    """
    trace = error if os.environ.get(DEBUG_ENV) == "1" else None
    _log.error("unexpected failure: %s", type(error).__name__, exc_info=trace)


def unexpected_problem() -> Response:
    """A failure the ledger did not raise on purpose: 500, with nothing of it shown."""
    detail = "unexpected failure; the service's log names it"
    return problem_response(500, detail, [problem("unexpected_failure", detail)])


def _status_rule(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
        415: "unsupported_media_type",
        429: "too_many_requests",
        503: "unavailable",
    }.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
