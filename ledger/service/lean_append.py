"""``POST /v1/events`` answered beside the framework, not through it.

An append is the request a service sends most, and under load the framework's
routing, dependency solving and middleware stack cost more Python per request
than the append's own checks (``bench/serve.py`` under a sampling profiler: about
two thirds of the event loop's time). ``LedgerApp`` sends the request to
``lean_stack`` before the framework sees it: the service's own ``AccessLog`` (one
log line, the metrics, a 500 for anything unexpected) around its own ``BodyLimit``
(413) around ``LeanAppend``, which checks the bearer token and the role (401, 429,
403: ``auth.authenticated``, ``auth.permitted``) and ends where the FastAPI route
ends, in ``routes_write.append_answer``; every error is answered as the installed
handlers answer it (``problems.answer_error``). The FastAPI route still describes
the operation in ``/openapi.json`` and answers when ``ServiceSettings.lean_append``
is off (``tests/service/test_lean_append.py`` holds the two to the same answers).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.persistence.store import StoreConfig
from ledger.service.auth import authenticated, permitted
from ledger.service.context import Service
from ledger.service.middleware import AccessLog, BodyLimit
from ledger.service.problems import answer_error
from ledger.service.routes_write import append_answer

ROUTE = "/v1/events"


class LeanAppend:
    """The ASGI handler of ``POST /v1/events`` (see the module's text)."""

    path = ROUTE
    """The route template ``AccessLog`` logs (it reads ``scope["route"].path``)."""

    def __init__(self, service: Service, store: StoreConfig) -> None:
        self._service = service
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one append request."""
        scope["route"] = self
        request = Request(scope, receive)
        try:
            principal = await authenticated(
                self._service.auth, request.headers.get("authorization", "")
            )
            request.state.token_id = principal.token_id
            response = await append_answer(self._service, request, permitted(principal, "append"))
        except ClientDisconnect:
            return  # nothing was appended, and nobody is left to answer
        except Exception as error:  # noqa: BLE001 - every failure is answered as a problem
            response = answer_error(error, self._store)
        await response(scope, receive, send)


def lean_stack(service: Service, store: StoreConfig) -> ASGIApp:
    """``LeanAppend`` inside the service's own body limit and access log."""
    handler = LeanAppend(service, store)
    return AccessLog(BodyLimit(handler, service.settings.max_body_bytes), service.metrics)


class LedgerApp(FastAPI):
    """The service's application: ``POST /v1/events`` goes to ``lean``, the rest as usual."""

    lean: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route the append request to the lean handler when there is one."""
        lean = self.lean
        if (
            lean is not None
            and scope["type"] == "http"
            and scope["path"] == ROUTE
            and scope["method"] == "POST"
        ):
            await lean(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
