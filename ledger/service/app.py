"""``create_app(core, settings)``: the HTTP service over one ``Core``.

Wires the guarded core, the writer (group commit), the seal timer, the
authenticator and the metrics to the routes and to the DPO's console (``/ui/``);
at shutdown the writer finishes what is queued and the policy seals what is
pending (the caller closes the core).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ledger.bootstrap import Core
from ledger.console import mount_console
from ledger.service import routes_log, routes_ops, routes_personal, routes_read, routes_write
from ledger.service.auth import Authenticator, RateLimiter
from ledger.service.context import Service
from ledger.service.gate import Gate
from ledger.service.lean_append import LedgerApp, lean_stack
from ledger.service.metrics import Metrics
from ledger.service.middleware import AccessLog, BodyLimit
from ledger.service.problems import PROBLEM_RESPONSES, install_handlers
from ledger.service.sealing import SealTimer
from ledger.service.settings import ServiceSettings
from ledger.service.views_process import ViewsProcess
from ledger.service.writer import GroupWriter

DESCRIPTION = """\
The consent and data-lineage ledger over HTTP (version 1 of the HTTP contract).
Requests carry `Authorization: Bearer TOKEN`; errors are RFC 9457 problem details
with the command line's problem objects in `errors`.
"""


def _service(core: Core, settings: ServiceSettings) -> Service:
    gate = Gate(core)
    metrics = Metrics()
    writer = GroupWriter(
        gate, metrics, wait_ms=settings.group_wait_ms, max_lines=settings.group_max_lines
    )
    auth = Authenticator(gate, RateLimiter(settings.rate_limit, settings.rate_burst))
    return Service(gate, writer, auth, metrics, settings)


def create_app(
    core: Core, settings: ServiceSettings | None = None, *, views: ViewsProcess | None = None
) -> FastAPI:
    """The ASGI application serving every endpoint of the contract over ``core``.

    ``views``: on PostgreSQL, a child process that keeps the views caught up (else
    the seal timer does, in this process); ignored on SQLite.
    """
    settings = settings or ServiceSettings()
    service = _service(core, settings)
    if core.ledger.store.kind != "postgresql":
        views = None
    timer = SealTimer(
        service.gate, service.metrics, every=settings.seal_every, views_elsewhere=views is not None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if views is not None:
            views.start()
        service.writer.start()
        timer.start()
        try:
            yield
        finally:
            service.writer.stop()  # finishes every queued commit first
            timer.stop()  # then the final seal
            if views is not None:
                views.stop()

    app = LedgerApp(
        title="ledger", version="1", description=DESCRIPTION, lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )  # fmt: skip
    app.state.service = service
    for module in (routes_write, routes_read, routes_personal, routes_log, routes_ops):
        app.include_router(module.router(service))
    mount_console(app, service)
    install_handlers(app, core.ledger.store)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog, metrics=service.metrics)
    if settings.lean_append:
        app.lean = lean_stack(service, core.ledger.store)
    return app
