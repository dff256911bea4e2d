"""Shared by the read and verify benchmarks: a store filled with a generated register.

``build(url, subjects)`` initialises a ledger at ``url`` with the example register
and streams the demo generator's population (about 10.5 events per subject) in
1000-line batches; ``stores(args)`` yields the SQLite and PostgreSQL URLs to use,
each fresh (a temporary file, a new schema dropped afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg

from ledger.appending.application import Ledger
from ledger.appending.definition_file import load_definition
from ledger.demo.population import demo_horizon, generate_population
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url

REGISTER = Path(__file__).parents[1] / "examples" / "register.toml"


def rss_kib() -> tuple[int, int]:
    """(current, peak) resident memory of this process in KiB."""
    values = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
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


def build(url: str, key_dir: Path, subjects: int, seed: int = 7) -> tuple[Ledger, int, float]:
    """A ledger at ``url`` holding ``subjects`` generated subjects; (ledger, events, seconds)."""
    loaded = load_definition(REGISTER)
    keys = MasterKeySource(key_dir / "bench.master.key")
    ledger = Ledger.initialise(parse_store_url(url), keys, loaded.definition, loaded.digest)
    start = ledger.notices.versions[0].effective_from
    lines = generate_population(
        loaded.definition, subjects, seed=seed, start=start,
        end=demo_horizon(start, ledger.clock.now()),
    )  # fmt: skip
    began = time.perf_counter()
    appended = 0
    for result in ledger.append_stream((orjson.dumps(x) for x in lines), batch_size=1000):
        appended += result.appended
    return ledger, appended, time.perf_counter() - began


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every population benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
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
            separator = "&" if "?" in postgres_url else "?"
            (folder / "postgresql").mkdir()
            yield "postgresql", f"{postgres_url}{separator}schema={schema}", folder / "postgresql"

    try:
        yield each()
    finally:
        if only in (None, "postgres"):
            with psycopg.connect(postgres_url.split("?", maxsplit=1)[0], autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}_replay" CASCADE')
        shutil.rmtree(folder, ignore_errors=True)
