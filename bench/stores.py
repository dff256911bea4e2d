"""What the append benchmarks share: the line supply, fresh stores, the raw driver.

``Bench`` makes fresh ledgers (SQLite files in a temporary folder, PostgreSQL
schemas dropped at the end); ``Feed`` supplies valid demo-population lines;
``SQLiteRaw`` / ``PostgresRaw`` are the bare drivers writing a table shaped like
the events table, measured beside the ledger in the same run. Used by
``bench/append.py`` and ``bench/growth.py``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeVar
from uuid import UUID, uuid4

import psycopg
from psycopg import sql

from bench.population import (
    SEAL_ON_REQUEST,
    drop_schemas,
    interleaved,
    ndjson,
    open_core,
    pg_base_url,
    population,
    with_schema,
)
from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import Core
from ledger.errors import BatchRejected

R = TypeVar("R")

BATCH = 1000
SUBJECTS_IN_TURN = 1000
ENDLESS = 10**9
"""Subjects asked of the generator: it yields lazily, so the supply never runs out."""
SEAL_POLICIES = {"on-request": SEAL_ON_REQUEST, "each-call": None}


# --- lines ------------------------------------------------------------------------


class Feed:
    """An endless, deterministic supply of valid NDJSON lines for one ledger."""

    def __init__(self, core: Core, definition: DefinitionFile, seed: int) -> None:
        lines = population(core, definition, seed=seed, subjects=ENDLESS)
        self._lines = ndjson(interleaved(lines, SUBJECTS_IN_TURN))

    def take(self, count: int) -> list[bytes]:
        """The next ``count`` lines."""
        return list(islice(self._lines, count))

    def stream(self, count: int) -> Iterator[bytes]:
        """The next ``count`` lines, generated as they are read."""
        return islice(self._lines, count)


def chunked(items: Iterable[R], size: int) -> Iterator[list[R]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- stores -----------------------------------------------------------------------


def new_run_id() -> str:
    """A prefix for this run's PostgreSQL schemas."""
    return f"bench_{int(time.time())}_{os.getpid()}"


@dataclass
class Bench:
    """Settings and fresh resources of one benchmark run."""

    args: argparse.Namespace
    tmp: Path
    definition: DefinitionFile
    run_id: str = field(default_factory=new_run_id)
    schemas: list[str] = field(default_factory=list)

    @property
    def seal_every(self) -> float | None:
        """The sealing interval every ledger of the run is opened with."""
        return SEAL_POLICIES[self.args.seal]

    def schema(self, name: str) -> str:
        """A new PostgreSQL schema name, remembered to be dropped at the end."""
        schema = f"{self.run_id}_{name}"
        self.schemas.append(schema)
        return schema

    def open_core(self, store: str, name: str) -> Core:
        """Initialise a ledger with the register on a fresh store."""
        if store == "sqlite":
            url = f"sqlite:///{self.tmp / f'{name}.db'}"
        else:
            url = with_schema(pg_base_url(self.args.postgres_url), self.schema(name))
        keys = self.tmp / f"{store}-{name}"
        keys.mkdir()
        return open_core(url, keys, self.definition, seal_every=self.seal_every)

    def drop_schemas(self) -> None:
        """Drop every PostgreSQL schema this run created."""
        if self.schemas:
            drop_schemas(self.args.postgres_url, self.schemas)


def sqlite_synchronous(core: Core) -> int:
    """``PRAGMA synchronous`` of the ledger's SQLite connection (2 = FULL)."""
    return int(core.store.query("PRAGMA synchronous")[0][0])


def stored_state_bytes(core: Core, last: int = 2000) -> int:
    """Average size of the stored states of the last ``last`` events, in bytes."""
    recorder = core.ledger.recorder
    head = recorder.max_notification_id() or 0
    events = recorder.select_notifications(max(1, head - last + 1), last)
    return round(statistics.mean(len(n.state) for n in events))


def pg_settings(url: str) -> str:
    """The server settings that decide the cost of a commit."""
    with psycopg.connect(pg_base_url(url)) as conn:
        values = [
            str(row[0])
            for name in ("server_version", "synchronous_commit", "fsync")
            if (row := conn.execute(f"SHOW {name}").fetchone()) is not None
        ]
    return "server {}, synchronous_commit={}, fsync={}".format(*values)


# --- raw driver -------------------------------------------------------------------

RawRow = tuple[UUID, int, str, bytes]


def raw_rows(count: int, payload: int) -> list[RawRow]:
    """Rows shaped like stored events: 8 versions per stream, ``payload``-byte states."""
    noise = os.urandom(4096 + payload)
    rows: list[RawRow] = []
    stream = uuid4()
    for i in range(count):
        if i % 8 == 0:
            stream = uuid4()
        start = (i * 37) % 4096
        state = noise[start : start + payload]
        rows.append((stream, i % 8 + 1, "PersonalDataRecorded", state))
    return rows


Digests = tuple[bytes, bytes]
"""A raw row's idempotency key digest and content digest (random, as keyed digests are)."""


def raw_digests(count: int) -> list[Digests]:
    """Random 32-byte digest pairs, as the ledger's HMAC-SHA256 digests fall in the index."""
    noise = os.urandom(64 * count)
    return [(noise[64 * i : 64 * i + 32], noise[64 * i + 32 : 64 * i + 64]) for i in range(count)]


class SQLiteRaw:
    """A plain table shaped like the ledger's, written with ``sqlite3`` alone."""

    def __init__(self, path: Path, synchronous: int) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.conn.execute(
            "CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER,"
            " topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        self.conn.execute(
            "CREATE TABLE raw_idempotency (key_digest BLOB PRIMARY KEY,"
            " content_digest BLOB NOT NULL, originator_id TEXT NOT NULL,"
            " originator_version INTEGER NOT NULL) WITHOUT ROWID"
        )
        self.insert = "INSERT INTO raw_events VALUES (?,?,?,?)"

    def single(self, rows: Sequence[RawRow]) -> None:
        """One row per transaction."""
        for oid, version, topic, state in rows:
            self.conn.execute("BEGIN")
            self.conn.execute(self.insert, (oid.hex, version, topic, state))
            self.conn.execute("COMMIT")

    def single_keyed(self, rows: Sequence[RawRow], digests: Sequence[Digests]) -> None:
        """Per transaction one row and its idempotency row, as a keyed one-line call stores."""
        for (oid, version, topic, state), (key, content) in zip(rows, digests, strict=True):
            self.conn.execute("BEGIN")
            self.conn.execute(self.insert, (oid.hex, version, topic, state))
            self.conn.execute(
                "INSERT INTO raw_idempotency VALUES (?,?,?,?)", (key, content, oid.hex, version)
            )
            self.conn.execute("COMMIT")

    def batched(self, rows: Sequence[RawRow]) -> None:
        """``executemany`` of BATCH rows per transaction."""
        for chunk in chunked(rows, BATCH):
            params = [(oid.hex, version, topic, state) for oid, version, topic, state in chunk]
            self.conn.execute("BEGIN")
            self.conn.executemany(self.insert, params)
            self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class PostgresRaw:
    """A plain table like the library's events table, written with psycopg alone."""

    def __init__(self, url: str, schema: str) -> None:
        self.conn = psycopg.connect(pg_base_url(url), autocommit=True)
        name = sql.Identifier(schema)
        self.conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        table = sql.SQL("{}.raw_events").format(name)
        create = (
            "CREATE TABLE {} (originator_id uuid NOT NULL,"
            " originator_version bigint NOT NULL, topic text, state bytea,"
            " notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        self.conn.execute(sql.SQL(create).format(table))
        index = "CREATE UNIQUE INDEX ON {} (notification_id)"
        self.conn.execute(sql.SQL(index).format(table))
        self.insert = sql.SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state)"
            " VALUES (%s, %s, %s, %s)"
        ).format(table)
        keyed = sql.SQL("{}.raw_idempotency").format(name)
        self.conn.execute(
            sql.SQL(
                "CREATE TABLE {} (key_digest bytea PRIMARY KEY, content_digest bytea NOT NULL,"
                " originator_id uuid NOT NULL, originator_version bigint NOT NULL)"
            ).format(keyed)
        )
        self.insert_keyed = sql.SQL(
            "WITH e AS (INSERT INTO {} (originator_id, originator_version, topic, state)"
            " VALUES (%s, %s, %s, %s)) INSERT INTO {} VALUES (%s, %s, %s, %s)"
        ).format(table, keyed)

    def single(self, rows: Sequence[RawRow]) -> None:
        """One row per transaction (autocommit: each INSERT commits)."""
        with self.conn.cursor() as cur:
            for row in rows:
                cur.execute(self.insert, row, prepare=True)

    def single_keyed(self, rows: Sequence[RawRow], digests: Sequence[Digests]) -> None:
        """Per statement (and commit) one row and its idempotency row: a keyed one-line call's."""
        with self.conn.cursor() as cur:
            for (oid, version, topic, state), (key, content) in zip(rows, digests, strict=True):
                values = (oid, version, topic, state, key, content, oid, version)
                cur.execute(self.insert_keyed, values, prepare=True)

    def batched(self, rows: Sequence[RawRow]) -> None:
        """``executemany`` of BATCH rows per transaction."""
        with self.conn.cursor() as cur:
            for chunk in chunked(rows, BATCH):
                with self.conn.transaction():
                    cur.executemany(self.insert, chunk)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


# --- measuring --------------------------------------------------------------------


@dataclass
class Result:
    """One measured path, run one or more times."""

    store: str
    path: str
    events: int
    seconds: list[float] = field(default_factory=list)
    raw: Result | None = None
    cpu_seconds: list[float] = field(default_factory=list)
    """This thread's CPU of each run (``run``), beside ``seconds``."""

    def run(self, work: Callable[[], object]) -> None:
        """Time one run of ``work``: wall clock, and the CPU of the thread that ran it."""
        cpu = time.thread_time()
        self.seconds.append(timed(work))
        self.cpu_seconds.append(time.thread_time() - cpu)

    def per_event(self) -> tuple[float, float]:
        """Median wall and CPU microseconds per event over the runs timed by ``run``."""
        wall = statistics.median(self.seconds) / self.events * 1e6
        return wall, statistics.median(self.cpu_seconds) / self.events * 1e6

    @property
    def rates(self) -> list[float]:
        """Events per second of each run, lowest first."""
        return sorted(self.events / s for s in self.seconds)

    @property
    def rate(self) -> float:
        """The median rate."""
        return statistics.median(self.rates)

    @property
    def ratio(self) -> str:
        """The median rate over the raw driver's median on the same path."""
        return f"{self.rate / self.raw.rate:.2f}" if self.raw else ""


def timed(work: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def append_all(core: Core, batches: Iterable[Sequence[bytes]]) -> int:
    """Append each batch in one call; the number of lines appended."""
    appended = 0
    for batch in batches:
        try:
            appended += core.ledger.append_batch(batch).appended
        except BatchRejected as e:
            problems = [v.as_dict() for v in e.violations[:5]]
            msg = f"the benchmark's own lines were rejected: {problems}"
            raise SystemExit(msg) from None
    return appended


def open_raw(
    bench: Bench, store: str, core: Core, name: str = "raw"
) -> tuple[SQLiteRaw | PostgresRaw, str]:
    """A fresh raw driver's table for a store, and a note on its settings."""
    if store == "sqlite":
        sync = sqlite_synchronous(core)
        note = f"sqlite: WAL, PRAGMA synchronous={sync} on the ledger's and the raw connection"
        return SQLiteRaw(bench.tmp / f"{name}.db", sync), note
    url = bench.args.postgres_url
    return PostgresRaw(url, bench.schema(name)), f"postgresql: {pg_settings(url)}"
