"""ASGI middleware: the body size limit, and one access-log line and metrics per request."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.faces.problems import problem
from ledger.service.metrics import Metrics
from ledger.service.problems import Problem, log_unexpected, problem_response, unexpected_problem

CLIENT_GONE = 499
"""The status logged when the client went away before it could be answered (nginx's)."""

access_log = logging.getLogger("ledger.service.access")
"""One JSON line per request: method, route template, status, duration, token id."""


def _too_large(limit: int) -> Problem:
    detail = f"the request body is larger than {limit} bytes"
    return Problem(413, detail, [problem("body_too_large", detail)])


class BodyLimit:
    """Refuse bodies over ``limit`` bytes (413), by Content-Length or as chunks arrive."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            refusal = _too_large(self.limit)
            await problem_response(413, str(refusal.detail), refusal.errors)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _too_large(self.limit)
            return message

        await self.app(scope, counted, send)


class AccessLog:
    """Log and count every request by its route template (never its path: refs are in it)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; afterwards, one log line and the metrics."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as e:  # noqa: BLE001 - answered here, so no server prints a traceback
            log_unexpected(e)
            if not status:
                await unexpected_problem()(scope, receive, watched)
            status = status or 500
        finally:
            # Unanswered without a failure: the client went away before it could be answered.
            self._done(scope, status or CLIENT_GONE, time.perf_counter() - started)

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        template = str(getattr(route, "path", "")) or "(no route)"
        state = scope.get("state") or {}
        self.metrics.request(template, scope["method"], status, seconds)
        line = {
            "method": scope["method"], "route": template, "status": status,
            "duration_ms": round(seconds * 1000, 3), "token_id": state.get("token_id"),
        }  # fmt: skip
        access_log.info(orjson.dumps(line).decode())
