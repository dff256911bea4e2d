"""Bearer tokens: who is asking, whether the role may, and how often.

``Authorization: Bearer TOKEN`` is looked up in the ledger's ``TokenRegistry``
(digests only, compared in constant time). No token, or an unknown, revoked or
expired one: 401 with ``WWW-Authenticate``. A role that may not do the action:
403 naming it. Past its rate, a token gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ledger.access.roles import Principal, line_refusal, may
from ledger.access.tokens import TokenRegistry
from ledger.faces.problems import problem
from ledger.service.gate import Gate
from ledger.service.problems import Problem

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ledger"'}


class RateLimiter:
    """A token bucket per token id: ``rate`` requests a second, ``burst`` at once."""

    def __init__(
        self, rate: float | None, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = max(1, burst)
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, token_id: str) -> float:
        """Take one request from the token's bucket: 0, or seconds until one is free."""
        if self._rate is None:
            return 0.0
        now = self._monotonic()
        with self._lock:
            level, then = self._buckets.get(token_id, (float(self._burst), now))
            level = min(float(self._burst), level + (now - then) * self._rate)
            if level >= 1:
                self._buckets[token_id] = (level - 1, now)
                return 0.0
            self._buckets[token_id] = (level, now)
            return (1 - level) / self._rate


class Authenticator:
    """Turns a request's bearer token into a principal, or refuses it."""

    def __init__(self, gate: Gate, limiter: RateLimiter) -> None:
        self._gate = gate
        self._registry = TokenRegistry(gate.core.ledger)
        self._limiter = limiter

    @property
    def fresh(self) -> bool:
        """Whether a token is checked from memory now (no store read, no lock)."""
        return self._registry.fresh

    def check(self, token: str) -> Principal | None:
        """The principal of a token; None when unknown, revoked or expired.

        From the registry's memory while it is fresh (no need to wait for a commit to
        finish); a refresh from the store (once a second at most) takes the gate.
        """
        now = self._gate.core.ledger.clock.now()
        registry = self._registry
        if registry.fresh:
            return registry.authenticate(token, now, refresh=False)
        return self._gate.use(lambda _: registry.authenticate(token, now))

    def principal(self, request: Request) -> Principal:
        """The request's principal (401 without a valid token, 429 past its rate)."""
        found = self.bearer(request.headers.get("authorization", ""))
        request.state.token_id = found.token_id
        return found

    def bearer(self, authorization: str) -> Principal:
        """The principal of an ``Authorization`` header's value (401, 429 as above)."""
        scheme, _, bearer = authorization.partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise _unauthenticated("send Authorization: Bearer TOKEN")
        found = self.check(bearer.strip())
        if found is None:
            raise _unauthenticated("the token is unknown, revoked or expired")
        wait = self._limiter.wait(found.token_id)
        if wait > 0:
            detail = "too many requests for this token: retry after the time given"
            raise Problem(
                429, detail, [problem("too_many_requests", detail)],
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )  # fmt: skip
        return found


def allowed(authenticator: Authenticator, action: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the principal, when its role may do ``action`` (else 403 naming it)."""

    async def dependency(request: Request) -> Principal:
        # In the event loop while the tokens are fresh in memory; a store read (once a
        # second at most) goes to a worker thread, never blocking the loop.
        if authenticator.fresh:
            principal = authenticator.principal(request)
        else:
            principal = await run_in_threadpool(authenticator.principal, request)
        return permitted(principal, action)

    return dependency


async def authenticated(authenticator: Authenticator, authorization: str) -> Principal:
    """The principal of an ``Authorization`` value, from a handler that reads its headers.

    As ``allowed`` does: in the event loop while the tokens are fresh in memory, else
    on a worker thread. The role is checked apart (``permitted``).
    """
    if authenticator.fresh:
        return authenticator.bearer(authorization)
    return await run_in_threadpool(authenticator.bearer, authorization)


def permitted(principal: Principal, action: str) -> Principal:
    """The principal, when its role may do ``action`` (else 403 naming it)."""
    if not may(principal, action):
        detail = f"the role {principal.role} may not do {action}"
        raise Problem(403, detail, [problem("forbidden", detail, action)])
    return principal


def refuse_lines(principal: Principal, lines: list[Mapping[str, Any] | None]) -> None:
    """403 when a service token may not append some line (its event type or source)."""
    errors = []
    for number, line in enumerate(lines, start=1):
        reason = None if line is None else line_refusal(principal, line)
        if reason is not None:
            field = "type" if reason.startswith("event type") else "source"
            errors.append({"line": number, **problem("not_allowed_for_token", reason, field)})
    if errors:
        detail = f"this token may not append {len(errors)} of the lines; nothing was appended"
        raise Problem(403, detail, errors)


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, detail, [problem("unauthenticated", detail)], headers=CHALLENGE)
