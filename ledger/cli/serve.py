"""``ledger serve``: the HTTP service (``ledger.service``) until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ledger.bootstrap import bootstrap
from ledger.cli.common import EXIT_OK, Io, command, positive, watch
from ledger.persistence.sources import store_config
from ledger.service.settings import MIB, ServiceSettings


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

    # Only this command loads FastAPI and uvicorn: every other starts 0.3 s sooner.
    from ledger.service.server import run  # noqa: PLC0415
    from ledger.service.views_process import ViewsProcess  # noqa: PLC0415

    views = None if args.views_in_process else ViewsProcess(args.store, args.key_file)
    try:
        run(core, settings, announce, views)
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
        "--views-in-process", action="store_true",
        help="on PostgreSQL, catch the views up in the service's own process"
        " (default: a child process does, beside the writer)",
    )  # fmt: skip
    serve.add_argument(
        "--group-wait-ms", type=float, default=2.0, metavar="MS",
        help="how long the writer gathers appends into one commit (default: 2)",
    )  # fmt: skip
    serve.add_argument(
        "--group-max-lines", type=positive, default=5000, metavar="N",
        help="most lines one group commit takes (default: 5000)",
    )  # fmt: skip
