"""``POST /v1/events`` answered beside the framework, not through it.

An append is the request a service sends most, and under load the framework's
routing, dependency solving and middleware stack cost more Python per request
than the append's own checks (``bench/serve.py`` under a sampling profiler: about
two thirds of the event loop's time). ``LeanAppend`` answers exactly what the
FastAPI route ``routes_write.events`` answers, with the same parts: the body
limit (413), the bearer token and the role (401, 429, 403: ``auth.authenticated``,
``auth.permitted``), the lines (``request_lines``), a service token's limits (``refuse_lines``), the
writer's group commit, the answer (``json_answer``) and every error as problem
details (``problems.answer_error``); then one access-log line and the metrics
(``middleware.answered``). ``LedgerApp`` sends the request here before the
framework sees it; the FastAPI route still describes the operation in
``/openapi.json`` and answers when ``ServiceSettings.lean_append`` is off
(``tests/service/test_lean_append.py`` holds the two to the same answers).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import FastAPI
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from ledger.persistence.store import StoreConfig
from ledger.service.auth import authenticated, permitted, refuse_lines
from ledger.service.context import Service, json_answer
from ledger.service.middleware import answered, too_large
from ledger.service.problems import answer_error
from ledger.service.routes_write import NDJSON, as_mapping, request_lines

ROUTE = "/v1/events"
CLIENT_GONE = 499
"""The status logged when the client went away before its body arrived (nginx's)."""


class LeanAppend:
    """The ASGI handler of ``POST /v1/events`` (see the module's text)."""

    def __init__(self, service: Service, store: StoreConfig) -> None:
        self._service = service
        self._store = store
        self._limit = service.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one append request, then log and count it."""
        started = time.perf_counter()
        status = 0
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        token: list[str] = []
        try:
            response = await self._append(headers, receive, token)
        except ClientDisconnect:
            status = CLIENT_GONE  # nothing was appended, and nobody is left to answer
        except Exception as error:  # noqa: BLE001 - every failure is answered as a problem
            response = answer_error(error, self._store)
        if status != CLIENT_GONE:
            await response(scope, receive, send)
            status = response.status_code
        answered(
            self._service.metrics, "POST", ROUTE, status, time.perf_counter() - started,
            token[0] if token else None,
        )  # fmt: skip

    async def _append(self, headers: dict[str, str], receive: Receive, token: list[str]) -> Any:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            raise too_large(self._limit)
        service = self._service
        principal = await authenticated(service.auth, headers.get("authorization", ""))
        token.append(principal.token_id)
        permitted(principal, "append")
        lines = request_lines(await self._body(receive), headers.get("content-type", NDJSON))
        if principal.types is not None or principal.sources is not None:
            refuse_lines(principal, [as_mapping(line) for line in lines])
        return json_answer(await asyncio.wrap_future(service.writer.append(lines)))

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limit:
                raise too_large(self._limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


class LedgerApp(FastAPI):
    """The service's application: ``POST /v1/events`` goes to ``lean``, the rest as usual."""

    lean: LeanAppend | None = None

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
