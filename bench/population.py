"""Shared by the benchmarks: fresh stores, the example register and the demo population.

Every benchmark opens its ledgers through the composition root
(``ledger.bootstrap.initialise``) with the example register
(``examples/register.toml``, read by ``load_definition``), and appends the demo
generator's population (``ledger.demo.population``: about 10.5 events per
subject, every id and field taken from the register, valid personal identity
codes from ``schemas.identifiers``).

Sealing: the library seals after every committed call unless ``seal_every`` is
set. Benchmarks open their ledgers with ``seal_every=SEAL_ON_REQUEST`` (an
infinite interval: the log is sealed only by ``core.seal()`` and when the core
closes), so append figures never include sealing, and time ``core.seal()`` on a
line of its own. ``bench/append.py --seal each-call`` measures the library's
default instead.

``build(url, key_dir, subjects)`` initialises a ledger at ``url`` and streams the
population in 1000-line batches; ``stores(...)`` yields the SQLite and PostgreSQL
URLs to use, each fresh (a temporary file, a new schema dropped afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import sql

from ledger.appending.definition_file import DefinitionFile, load_definition
from ledger.bootstrap import Core, initialise
from ledger.demo.population import demo_horizon, generate_population

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "examples" / "register.toml"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SEAL_ON_REQUEST = math.inf
"""``seal_every`` that never seals on its own: only ``core.seal()`` and closing do."""

Line = dict[str, Any]


def register() -> DefinitionFile:
    """The example register, read and checked as ``ledger init`` reads it."""
    return load_definition(REGISTER)


def open_core(
    url: str, key_dir: Path, definition: DefinitionFile, *, seal_every: float | None
) -> Core:
    """A new ledger at ``url`` with the register's first notice, keys in ``key_dir``."""
    key_file = key_dir / "bench.master.key"
    return initialise(url, definition, key_file=key_file, seal_every=seal_every)


def population(
    core: Core, definition: DefinitionFile, *, seed: int, subjects: int
) -> Iterator[Line]:
    """The demo population for ``core``: from its first notice to its clock's today."""
    start = core.ledger.notices.versions[0].effective_from
    end = demo_horizon(start, core.ledger.clock.now())
    return generate_population(definition.definition, subjects, seed=seed, start=start, end=end)


def interleaved(lines: Iterable[Line], subjects: int) -> Iterator[Line]:
    """The lines of ``subjects`` subjects at a time, taking one line of each in turn.

    The demo population lists each subject's events together (a bulk load). Taken in
    turn, a subject's events lie about ``subjects`` lines apart, as in a live feed:
    most lines then touch a subject stored by an earlier call. Each subject's own
    order (its registration first) is kept; memory holds ``subjects`` histories.
    """
    histories = (list(group) for _, group in groupby(lines, key=lambda line: line["subject"]))
    active: deque[deque[Line]] = deque()
    for history in histories:
        active.append(deque(history))
        if len(active) < subjects:
            continue
        yield from _one_round(active)
    while active:
        yield from _one_round(active)


def _one_round(active: deque[deque[Line]]) -> Iterator[Line]:
    """One line of each active history; finished histories leave the rotation."""
    for _ in range(len(active)):
        history = active.popleft()
        yield history.popleft()
        if history:
            active.append(history)


def ndjson(lines: Iterable[Line]) -> Iterator[bytes]:
    """Each line as the bytes of one NDJSON line."""
    return (orjson.dumps(line) for line in lines)


def build(url: str, key_dir: Path, subjects: int, seed: int = 7) -> tuple[Core, int, float]:
    """A ledger at ``url`` holding ``subjects`` generated subjects, not sealed yet.

    Returns (core, events appended, seconds spent appending). The core seals only
    when asked (``SEAL_ON_REQUEST``), so the caller times ``core.seal()`` itself.
    """
    definition = register()
    core = open_core(url, key_dir, definition, seal_every=SEAL_ON_REQUEST)
    lines = ndjson(population(core, definition, seed=seed, subjects=subjects))
    began = time.perf_counter()
    appended = sum(r.appended for r in core.ledger.append_stream(lines, batch_size=1000))
    return core, appended, time.perf_counter() - began


def timed_seal(core: Core) -> float:
    """Seconds to catch the Merkle tree up and sign one checkpoint."""
    began = time.perf_counter()
    core.seal()
    return time.perf_counter() - began


# --- memory -------------------------------------------------------------------------


def rss_kib() -> tuple[int, int]:
    """(current, peak) resident memory of this process in KiB."""
    status = Path("/proc/self/status").read_text().splitlines()
    values = dict(line.split(":", 1) for line in status if line.startswith("Vm"))
    return int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0])


class RssMarks:
    """A progress callback noting resident memory at 10%, 50% and 100% of a run."""

    def __init__(self) -> None:
        self.marks: dict[int, float] = {}

    def __call__(self, position: int, target: int) -> None:
        for mark in (10, 50, 100):
            if mark not in self.marks and position * 100 >= mark * target:
                self.marks[mark] = rss_kib()[0] / 1024

    def figures(self) -> dict[str, float]:
        """rss_10, rss_50, rss_100 and the process's peak, in MiB."""
        return {**{f"rss_{k}": v for k, v in self.marks.items()}, "peak": rss_kib()[1] / 1024}


# --- stores -------------------------------------------------------------------------


def pg_base_url(url: str) -> str:
    """The URL without its query (``?schema=``)."""
    return url.split("?", maxsplit=1)[0]


def with_schema(url: str, schema: str) -> str:
    """``url`` pointing at ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def drop_schemas(postgres_url: str, schemas: Iterable[str]) -> None:
    """Drop these PostgreSQL schemas (and what is in them) if they exist."""
    with psycopg.connect(pg_base_url(postgres_url), autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every population benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--subjects", type=int, default=100_000, help="generated subjects")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help="a PostgreSQL database")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="measure one store only")
    return parser


@contextlib.contextmanager
def stores(postgres_url: str, only: str | None) -> Iterator[Iterator[tuple[str, str, Path]]]:
    """(name, url, key folder) for each store, fresh; cleaned up afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    schema = f"bench_{int(time.time())}_{os.getpid()}"

    def each() -> Iterator[tuple[str, str, Path]]:
        if only in (None, "sqlite"):
            (folder / "sqlite").mkdir()
            yield "sqlite", f"sqlite:///{folder / 'bench.db'}", folder / "sqlite"
        if only in (None, "postgres"):
            (folder / "postgresql").mkdir()
            yield "postgresql", with_schema(postgres_url, schema), folder / "postgresql"

    try:
        yield each()
    finally:
        if only in (None, "postgres"):
            drop_schemas(postgres_url, [schema, f"{schema}_replay"])
        shutil.rmtree(folder, ignore_errors=True)
