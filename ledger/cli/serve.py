"""``ledger serve``: the HTTP service (``ledger.service``) until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ledger.bootstrap import bootstrap
from ledger.cli.common import EXIT_OK, Io, command, positive, watch
from ledger.persistence.sources import store_config
from ledger.service.app import create_app
from ledger.service.settings import MIB, ServiceSettings


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


def _settings(args: argparse.Namespace) -> ServiceSettings:
    return ServiceSettings(
        host=args.host, port=args.port, max_body_bytes=args.max_body, rate_limit=args.rate_limit,
        group_wait_ms=args.group_wait_ms, group_max_lines=args.group_max_lines,
        seal_every=args.seal_every,
    )  # fmt: skip


def cmd_serve(args: argparse.Namespace, io: Io) -> int:
    """Serve the ledger over HTTP until interrupted (SIGINT or SIGTERM: a graceful stop)."""
    settings = _settings(args)
    where = store_config(args.store).redacted()
    core = watch(bootstrap(args.store, key_file=args.key_file, seal_every=settings.seal_every))
    handler = logging.StreamHandler(io.stderr)
    logging.getLogger("ledger.service").addHandler(handler)
    logging.getLogger("ledger.service").setLevel(logging.INFO)

    def announce(host: str, port: int) -> None:
        io.line(f"ledger serving {where} on http://{host}:{port} (SIGINT or SIGTERM stops)")
        io.stdout.flush()

    try:
        config = uvicorn.Config(
            create_app(core, settings), host=settings.host, port=settings.port,
            log_level="warning", access_log=False, lifespan="on",
        )  # fmt: skip
        _settle_garbage_collector()
        with _stops_quietly():
            _Server(config, announce).run()
    finally:
        logging.getLogger("ledger.service").removeHandler(handler)
        core.close()
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``serve`` to the parser."""
    serve = command(sub, "serve", cmd_serve, common)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8080, help="TCP port (default: 8080)")
    serve.add_argument(
        "--seal-every", type=float, default=1.0, metavar="SECONDS",
        help="seal what was written at least this often (default: 1; also at shutdown)",
    )  # fmt: skip
    serve.add_argument(
        "--max-body", type=positive, default=8 * MIB, metavar="BYTES",
        help="largest request body accepted, else 413 (default: 8 MiB)",
    )  # fmt: skip
    serve.add_argument(
        "--rate-limit", type=float, default=None, metavar="N",
        help="requests per second per token, else 429 (default: no limit)",
    )  # fmt: skip
    serve.add_argument(
        "--group-wait-ms", type=float, default=2.0, metavar="MS",
        help="how long the writer gathers appends into one commit (default: 2)",
    )  # fmt: skip
    serve.add_argument(
        "--group-max-lines", type=positive, default=5000, metavar="N",
        help="most lines one group commit takes (default: 5000)",
    )  # fmt: skip
