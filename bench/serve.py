"""A bounded load run against a real ``ledger serve`` process on loopback.

For each store: a fresh ledger, a ``service`` token made with ``ledger token
create``, and a server process on a free loopback port. Then, from this process
(asyncio, one keep-alive connection per client, no HTTP library in the way):

1. ``--clients`` clients (default 32) each send ``--requests`` one-event requests,
   one after another, all clients at once;
2. ``--batch-clients`` clients (default 4) each send ``--batch-requests``
   requests of 1000 lines.

It prints events/s, p50/p99 latency and the group-commit batch sizes the server's
``/metrics`` counted, and beside them, from the same run, the in-process
``append_batch`` rate of 1000-line calls and the raw driver's single-row commit
rate. Every client owns its subjects (references and idempotency keys carry its
number), so the requests of different clients never depend on each other.
Traffic goes to 127.0.0.1 only and every phase is bounded in count.

    .venv/bin/python bench/serve.py [--only sqlite|postgres] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.population import ROOT, register
from bench.stores import BATCH, Bench, Feed, append_all, chunked, open_raw, raw_rows, timed

LEDGER = str(Path(sys.executable).with_name("ledger"))
WARM_UP = 5
"""Requests per client before its latencies count as warm."""
DEFAULT_PG_URL = os.environ.get(
    "LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass
class Phase:
    """One load phase: what was sent and how long each request took."""

    name: str
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    """Latencies after each client's first ``WARM_UP`` requests (connections, caches)."""
    refused: int = 0

    @property
    def rate(self) -> float:
        """Events per second over the phase's wall-clock time."""
        return self.events / self.seconds if self.seconds else 0.0

    def percentile(self, q: float, *, warm: bool = False) -> float:
        """A latency percentile in milliseconds (of every request, or after warm-up)."""
        ordered = sorted(self.warm if warm else self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``ledger serve`` process and what it takes to talk to it."""

    process: subprocess.Popen[bytes]
    port: int
    token: str

    def get(self, path: str) -> str:
        """A GET on the server (for /healthz and /metrics)."""
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())

    def stop(self) -> int:
        """SIGTERM, then the exit code (it finishes in-flight commits first)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def start_server(url: str, env: dict[str, str], args: argparse.Namespace, log_dir: Path) -> Server:
    """Make a service token and start the server; return once /healthz answers."""
    made = subprocess.run(  # noqa: S603 - our own command
        [LEDGER, "token", "create", "--store", url, "--name", "bench", "--role", "service",
         "--json"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    token = str(orjson.loads(made.stdout)["token"])
    port = free_port()
    command = [LEDGER, "serve", "--store", url, "--port", str(port)]
    if args.group_wait_ms is not None:
        command += ["--group-wait-ms", str(args.group_wait_ms)]
    log = log_dir / f"serve-{port}.log"
    with log.open("wb") as sink:  # the request log: a pipe nobody reads would fill and block
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, env=env, stdout=subprocess.DEVNULL, stderr=sink
        )
    server = Server(process, port, token)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = log.read_text(errors="replace")[-2000:]
            msg = f"ledger serve exited with {process.returncode}: {error}"
            raise SystemExit(msg)
        try:
            server.get("/healthz")
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    msg = "ledger serve did not answer /healthz within 30 s"
    raise SystemExit(msg)


# --- the clients ------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection sending NDJSON appends."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """POST /v1/events; the status and the body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None  # noqa: S101 - set with the writer
        head = (
            f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/x-ndjson\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (header := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def own_lines(lines: Sequence[bytes], client: int) -> Iterator[bytes]:
    """The lines with the client's number on every reference and idempotency key."""
    for raw in lines:
        line = orjson.loads(raw)
        if "subject" in line:
            line["subject"] = f"{line['subject']}.{client}"
        if line.get("idempotency_key"):
            line["idempotency_key"] = f"{line['idempotency_key']}.{client}"
        yield orjson.dumps(line)


async def run_clients(server: Server, requests: list[list[bytes]], phase: Phase) -> None:
    """Each client sends its requests one after another; all clients at once."""

    async def one(bodies: list[bytes]) -> None:
        client = Client(server.port, server.token)
        try:
            for n, body in enumerate(bodies):
                started = time.perf_counter()
                status, answer = await client.post(body)
                phase.latencies.append(time.perf_counter() - started)
                if n >= WARM_UP:
                    phase.warm.append(phase.latencies[-1])
                if status != 200:
                    phase.refused += 1
                    if phase.refused == 1:
                        print(f"  first refusal: {status} {answer[:300]!r}", file=sys.stderr)
                else:
                    phase.events += int(orjson.loads(answer)["appended"])
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(bodies) for bodies in requests))
    phase.seconds = time.perf_counter() - started


def client_requests(
    feed_lines: list[bytes], clients: int, per_client: int, lines_per_request: int
) -> list[list[bytes]]:
    """For each client, its request bodies (NDJSON), built before any is timed."""
    out = []
    for c in range(clients):
        mine = list(own_lines(feed_lines, c))[: per_client * lines_per_request]
        out.append([b"\n".join(chunk) + b"\n" for chunk in chunked(mine, lines_per_request)])
    return out


# --- metrics ----------------------------------------------------------------------


def group_sizes(metrics: str) -> tuple[float, float]:
    """Mean requests and lines per group commit from the server's /metrics."""

    def value(name: str) -> float:
        found = re.search(rf"^{name} ([0-9.e+]+)$", metrics, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    commits = value("ledger_group_commit_requests_count")
    if not commits:
        return 0.0, 0.0
    return (
        value("ledger_group_commit_requests_sum") / commits,
        value("ledger_group_commit_lines_sum") / commits,
    )


# --- one store --------------------------------------------------------------------


def measure(bench: Bench, store: str, args: argparse.Namespace) -> list[str]:
    """Every figure of one store, as printable lines."""
    core = bench.open_core(store, "serve")
    url = core.ledger.store.url
    keys = Path(core.ledger.key_source.path)
    feed = Feed(core, bench.definition, seed=11)
    single_lines = feed.take(args.requests)
    batch_lines = feed.take(args.batch_requests * BATCH)
    core.close()
    env = {**os.environ, "LEDGER_MASTER_KEY_FILE": str(keys)}
    singles = client_requests(single_lines, args.clients, args.requests, 1)
    batches = client_requests(batch_lines, args.batch_clients, args.batch_requests, BATCH)
    server = start_server(url, env, args, bench.tmp)
    one = Phase(f"{args.clients} clients x 1 event")
    many = Phase(f"{args.batch_clients} clients x {BATCH} lines")
    try:
        asyncio.run(run_clients(server, singles, one))
        single_groups = group_sizes(server.get("/metrics"))
        asyncio.run(run_clients(server, batches, many))
    finally:
        code = server.stop()
    measured = baselines(bench, store, args)
    return report(store, (one, many), single_groups, measured, code)


def baselines(bench: Bench, store: str, args: argparse.Namespace) -> tuple[float, list[float]]:
    """The in-process 1000-line append rate and the raw single-row commit rates.

    The raw rate is taken ``--raw-repeat`` times (the disk's commit time here swings
    by half between runs): the median is the baseline, every run is printed.
    """
    core = bench.open_core(store, "inprocess")
    try:
        feed = Feed(core, bench.definition, seed=13)
        lines = feed.take(args.batch_requests * BATCH * args.batch_clients)
        seconds = timed(lambda: append_all(core, chunked(lines, BATCH)))
        in_process = len(lines) / seconds
        raw, _ = open_raw(bench, store, core)
        try:
            raw_single = []
            for _ in range(args.raw_repeat):
                rows = raw_rows(args.raw_rows, 400)
                raw_single.append(len(rows) / timed(partial(raw.single, rows)))
        finally:
            raw.close()
    finally:
        core.close()
    return in_process, raw_single


def report(
    store: str,
    phases: tuple[Phase, Phase],
    groups: tuple[float, float],
    base_rates: tuple[float, list[float]],
    code: int,
) -> list[str]:
    """The store's table rows."""
    rows = [
        f"{store}: server exit code {code} after SIGTERM",
        f"  {'path':32} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'warm p99':>9}"
        f" {'refused':>8} {'ratio':>22}",
    ]
    one, many = phases
    in_process, raw_runs = base_rates
    raw_single = statistics.median(raw_runs)
    compared = ((one, raw_single, "raw single-row"), (many, in_process, "in-process batch"))
    for phase, base, label in compared:
        ratio = f"{phase.rate / base:.2f} x {label}" if base else ""
        rows.append(
            f"  {phase.name:32} {phase.rate:10,.0f} {phase.percentile(0.5):8.1f}"
            f" {phase.percentile(0.99):8.1f} {phase.percentile(0.99, warm=True):9.1f}"
            f" {phase.refused:8} {ratio:>22}"
        )
    rows += [
        f"  group commits while one-event clients ran: {groups[0]:.1f} requests,"
        f" {groups[1]:.1f} lines per commit (mean)",
        f"  same run: in-process append_batch({BATCH}) {in_process:,.0f} events/s;"
        f" raw driver single-row commit {raw_single:,.0f} rows/s (median of runs"
        f" {', '.join(f'{r:,.0f}' for r in raw_runs)})",
    ]
    return rows


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add = parser.add_argument
    add("--postgres-url", default=DEFAULT_PG_URL, help="a PostgreSQL database")
    add("--only", choices=("sqlite", "postgres"), help="measure one store only")
    add("--clients", type=int, default=32, help="one-event clients")
    add("--requests", type=int, default=200, help="requests per one-event client")
    add("--batch-clients", type=int, default=4, help="1000-line clients")
    add("--batch-requests", type=int, default=5, help="requests per 1000-line client")
    add("--raw-rows", type=int, default=2000, help="rows of the raw single-row baseline")
    add("--raw-repeat", type=int, default=3, help="runs of the raw baseline (median used)")
    add("--group-wait-ms", type=float, default=None, help="the server's --group-wait-ms")
    add("--seal", default="on-request", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure each store and print its figures."""
    args = parse_args(argv)
    stores = [s for s in ("sqlite", "postgresql") if s.startswith(args.only or "")]
    definition = register()
    print(f"register: {definition.path.relative_to(ROOT)}; loopback only")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        bench = Bench(args, Path(tmp), definition)
        try:
            for store in stores:
                for row in measure(bench, store, args):
                    print(row, flush=True)
        finally:
            bench.drop_schemas()


if __name__ == "__main__":
    main()
