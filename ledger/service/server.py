"""Running the service: uvicorn over ``create_app``, until SIGINT or SIGTERM.

Kept apart from the command line so that only ``ledger serve`` loads FastAPI and
uvicorn (about 0.3 s): every other command starts without them.
"""

from __future__ import annotations

import gc
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ledger.bootstrap import Core
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from ledger.service.views_process import ViewsProcess


class _Server(uvicorn.Server):
    """uvicorn's server, saying once where it listens when it has bound."""

    def __init__(self, config: uvicorn.Config, announce: Any) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Bind, start the application, then print the address."""
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self._announce(host, port)


@contextmanager
def _stops_quietly() -> Iterator[None]:
    """SIGINT and SIGTERM stop the server gracefully and the command exits 0.

    uvicorn captures both while it serves and raises the signal again once it has
    stopped; the handlers installed here receive that second signal and ignore it.
    """
    stops = (signal.SIGINT, signal.SIGTERM)
    before = {s: signal.signal(s, lambda *_: None) for s in stops}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _settle_garbage_collector() -> None:
    """Keep the cyclic collector's full passes off the request path.

    What was loaded at start (modules, the register, the app) is frozen out of the
    collector's view, and the young generation is collected less often: a request
    makes many short-lived objects and few cycles, and a full pass over a large heap
    was a pause every request queued behind.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def run(
    core: Core,
    settings: ServiceSettings,
    announce: Callable[[str, int], None],
    views: ViewsProcess | None = None,
) -> None:
    """Serve ``core`` until SIGINT or SIGTERM; ``announce(host, port)`` once it listens.

    ``views``: the child process that keeps a PostgreSQL store's views caught up.
    """
    config = uvicorn.Config(
        create_app(core, settings, views=views), host=settings.host, port=settings.port,
        log_level="warning", access_log=False, lifespan="on",
    )  # fmt: skip
    _settle_garbage_collector()
    with _stops_quietly():
        _Server(config, announce).run()
