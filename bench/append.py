"""Append throughput of the ledger beside the raw driver, on SQLite and PostgreSQL.

Run from the project folder::

    .venv/bin/python bench/append.py [--postgres-url URL] [--events N]
        [--single-calls N] [--repeat N] [--stream-lines N]
        [--only sqlite|postgres] [--profile]

What it measures, per store, all in one process and one run (the machine's speed
drifts, so the raw figures are measured again every time, never quoted):

``raw 1 row/commit``
    the driver alone (``sqlite3`` / psycopg) inserting one row per commit into a
    plain table shaped like the events table (uuid, bigint, text, 300 bytes of
    bytes, the same primary key; on PostgreSQL also the bigserial position).
``ledger append_batch(1 line)``
    ``Ledger.append_batch([line])`` once per event: parse, pydantic validation,
    idempotency digests, register checks, AES-GCM sealing, one transaction.
``raw executemany 1000/commit``
    the driver alone, ``executemany`` of 1000 rows per transaction.
``ledger append_batch(1000 lines)``
    ``Ledger.append_batch`` with 1000 NDJSON lines per call.

The lines are realistic and pass every check: for each new subject a
``SubjectRegistered``, ``ContractStarted``, ``ConsentGranted`` (marketing) and
``PersonalDataRecorded`` (name and a valid personal identity code), then four
``PersonalDataRecorded`` updates of random earlier subjects, so batches also
touch subjects stored by earlier calls. 5 of 8 lines carry sealed personal data;
every line has an idempotency key. Lines are generated before the clock starts,
except in the stream test, where generating them is part of the run.

How to read the table: each path runs ``--repeat`` times (fresh lines each time,
same store); ``events/s`` is the median rate and ``each run`` lists every run's
rate in order, so a wide spread says the machine was busy with something else.
``ledger/raw`` is the ledger's median over the raw driver's median on the same
path: 1.00 would mean the ledger costs nothing over the bare driver. SQLite runs
in WAL mode with the ledger connection's own ``PRAGMA synchronous`` (printed) on
both connections, so both pay the same fsync per commit.

``--stream-lines N`` streams N lines from a generator through
``Ledger.append_stream(lines, batch_size=1000)`` on a fresh store, in a freshly
spawned process (so earlier measurements do not mask growth), and prints the
rate and the resident memory (now and peak) at the start and at 10%, 50% and
100%: figures that stay flat mean memory does not grow with the stream.

``--profile`` then times the ledger's phases on each store (timing wrappers
patched around its functions in this process only; they add about 0.3 us per
wrapped call, several per event) for one-line calls and for 1000-line calls,
and prints cProfile's top functions of the 1000-line path (the profiler's own
overhead inflates functions with many small calls). "rest" rows are a phase's
own code outside the phases listed under it.

Every store is fresh: SQLite files in a temporary folder, PostgreSQL schemas
named ``bench_<time>_<pid>_...``, dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import multiprocessing
import os
import pstats
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from unittest import mock
from urllib.parse import urlsplit
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import psycopg
from psycopg import sql

from ledger.appending import application as application_module
from ledger.appending import batch as appending_module
from ledger.appending.application import Ledger, file_digest
from ledger.errors import BatchRejected
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from schemas.register import RegisterDefinition

ROOT = Path(__file__).resolve().parents[1]
P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REGISTER_FILE = ROOT / "examples" / "register.toml"
BATCH = 1000
PAYLOAD_BYTES = 300
CONTROLLER = "0209628-8"
PIC_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
FIRST_NAMES = ("Aino", "Eino", "Helmi", "Onni", "Aada", "Leevi", "Venla", "Väinö")
LAST_NAMES = ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Laine")

FALLBACK_REGISTER = """\
name = "Benchmark register"
version = "v1"
effective_from = "2021-06-03T00:00:00+03:00"
[[controllers]]
business_id = "0209628-8"
name = "Retail"
[privacy_contact]
email = "privacy@example.fi"
[[purposes]]
id = "marketing"
description = "Marketing"
bases = ["consent", "contract"]
[[categories]]
id = "customer_basic"
description = "Basic"
fields = { name = "text", personal_identity_code = "personal_identity_code" }
[[sources]]
id = "data_subject"
description = "the subject"
[[retention]]
category = "customer_basic"
period = "P3Y"
starts = "contract_ended"
statement = "kept 3 years after the contract ends"
[automated_decisions]
exists = false
statement = "none"
"""


# --- lines ------------------------------------------------------------------------


def personal_identity_code(rng: random.Random) -> str:
    """A valid Finnish personal identity code of someone born 1930-1998."""
    born = datetime(1930, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(25_000))
    ddmmyy = born.strftime("%d%m%y")
    individual = f"{rng.randrange(2, 900):03d}"
    return f"{ddmmyy}-{individual}{PIC_CHECK[int(ddmmyy + individual) % 31]}"


@dataclass
class Population:
    """An endless, deterministic supply of valid NDJSON lines for one ledger.

    A cycle of 8 lines: a new subject's SubjectRegistered, ContractStarted,
    ConsentGranted and PersonalDataRecorded, then 4 PersonalDataRecorded of random
    subjects registered earlier. Only counters are kept, so memory stays flat.
    """

    occurred_from: datetime
    seed: int = 1
    registered: int = 0
    emitted: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def lines(self, count: int) -> Iterator[bytes]:
        """The next ``count`` lines, as the bytes of one NDJSON line each."""
        for _ in range(count):
            yield orjson.dumps(self._next())
            self.emitted += 1

    def _next(self) -> dict[str, Any]:
        step = self.emitted % 8
        if step == 0:
            self.registered += 1
        ref = self.registered if step < 4 else self.rng.randrange(self.registered) + 1
        occurred = self.occurred_from + timedelta(seconds=self.emitted % 86_400)
        line: dict[str, Any] = {
            "type": "PersonalDataRecorded",
            "subject": f"C-{ref:08d}",
            "occurred_at": occurred.isoformat(),
            "actor": "crm-import",
            "idempotency_key": f"crm-import:{self.emitted:010d}",
        }
        if step == 0:
            line["type"] = "SubjectRegistered"
            line["data"] = {"kind": "person", "controller": CONTROLLER}
        elif step == 1:
            line["type"] = "ContractStarted"
            line["data"] = {
                "controller": CONTROLLER,
                "contract": f"K-{ref:08d}",
                "metering_point": f"6430070000{ref:08d}",
            }
        elif step == 2:
            line["type"] = "ConsentGranted"
            line["data"] = {
                "purpose": "marketing",
                "channel": "web_form",
                "evidence": f"form-2023-v4#{ref:08d}",
            }
        else:
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            pic = personal_identity_code(self.rng)
            line["source"] = "data_subject"
            line["data"] = {
                "category": "customer_basic",
                "fields": {"name": name, "personal_identity_code": pic},
            }
        return line


def chunked(items: Iterable[R], size: int) -> Iterator[list[R]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- stores -----------------------------------------------------------------------


def load_register() -> tuple[RegisterDefinition, bytes, str]:
    """The example register if present, else a minimal one with the same ids."""
    if REGISTER_FILE.exists():
        raw, origin = REGISTER_FILE.read_bytes(), str(REGISTER_FILE.relative_to(ROOT))
    else:
        raw, origin = FALLBACK_REGISTER.encode(), "the inline fallback register"
    definition = RegisterDefinition.model_validate(tomllib.loads(raw.decode()))
    return definition, raw, origin


def pg_base_url(url: str) -> str:
    """The URL without its query (``?schema=``)."""
    return urlsplit(url)._replace(query="").geturl()


def new_run_id() -> str:
    """A prefix for this run's PostgreSQL schemas."""
    return f"bench_{int(time.time())}_{os.getpid()}"


@dataclass
class Bench:
    """Settings and fresh resources of one benchmark run."""

    args: argparse.Namespace
    tmp: Path
    definition: RegisterDefinition
    register_raw: bytes
    run_id: str = field(default_factory=new_run_id)
    schemas: list[str] = field(default_factory=list)

    @property
    def effective_from(self) -> datetime:
        """When the published notice takes effect."""
        return self.definition.effective_from or datetime(2021, 6, 3, tzinfo=UTC)

    def occurred_from(self) -> datetime:
        """2024-01-01T12:00+02:00, or a day after the notice if that is later."""
        start = datetime.fromisoformat("2024-01-01T12:00:00+02:00")
        return max(start, self.effective_from + timedelta(days=1))

    def schema(self, name: str) -> str:
        """A new PostgreSQL schema name, remembered to be dropped at the end."""
        schema = f"{self.run_id}_{name}"
        self.schemas.append(schema)
        return schema

    def open_ledger(self, store: str, name: str) -> Ledger:
        """Initialise a ledger with the register on a fresh store."""
        if store == "sqlite":
            url = f"sqlite:///{self.tmp / f'{name}.db'}"
        else:
            url = f"{pg_base_url(self.args.postgres_url)}?schema={self.schema(name)}"
        key = MasterKeySource(self.tmp / f"{store}-{name}.key")
        effective = None if self.definition.effective_from else self.effective_from
        digest = file_digest(self.register_raw)
        return Ledger.initialise(
            parse_store_url(url), key, self.definition, digest, effective_from=effective
        )

    def drop_schemas(self) -> None:
        """Drop every PostgreSQL schema this run created."""
        if not self.schemas:
            return
        with psycopg.connect(pg_base_url(self.args.postgres_url)) as conn:
            conn.autocommit = True
            for schema in self.schemas:
                drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
                conn.execute(drop.format(sql.Identifier(schema)))


def sqlite_synchronous(ledger: Ledger) -> int:
    """``PRAGMA synchronous`` of the ledger's SQLite connection (2 = FULL)."""
    datastore: Any = ledger.ledger_recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as c:
        c.execute("PRAGMA synchronous")
        return int(c.fetchone()[0])


def stored_state_bytes(ledger: Ledger) -> float:
    """Average size of the stored event states, in bytes."""
    recorder: Any = ledger.ledger_recorder
    table = recorder.events_table_name
    if ledger.store.kind == "sqlite":
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT avg(length(state)) FROM {table}")
            return float(c.fetchone()[0])
    query = sql.SQL("SELECT avg(octet_length(state)) AS n FROM {}.{}").format(
        sql.Identifier(ledger.store.schema), sql.Identifier(table)
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(query)
        return float(curs.fetchone()["n"])


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


def raw_rows(count: int) -> list[RawRow]:
    """Rows shaped like stored events: 8 versions per stream, 300-byte states."""
    noise = os.urandom(4096 + PAYLOAD_BYTES)
    rows: list[RawRow] = []
    stream = uuid4()
    for i in range(count):
        if i % 8 == 0:
            stream = uuid4()
        start = (i * 37) % 4096
        state = noise[start : start + PAYLOAD_BYTES]
        rows.append((stream, i % 8 + 1, "PersonalDataRecorded", state))
    return rows


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
        self.insert = "INSERT INTO raw_events VALUES (?,?,?,?)"

    def single(self, rows: Sequence[RawRow]) -> None:
        """One row per transaction."""
        for oid, version, topic, state in rows:
            self.conn.execute("BEGIN")
            self.conn.execute(self.insert, (oid.hex, version, topic, state))
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

    def single(self, rows: Sequence[RawRow]) -> None:
        """One row per transaction (autocommit: each INSERT commits)."""
        with self.conn.cursor() as cur:
            for row in rows:
                cur.execute(self.insert, row, prepare=True)

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


def append_all(ledger: Ledger, batches: Iterable[Sequence[bytes]]) -> int:
    """Append each batch in one call; the number of events appended."""
    appended = 0
    for batch in batches:
        try:
            appended += ledger.append_batch(batch).appended
        except BatchRejected as e:
            problems = [v.as_dict() for v in e.violations[:5]]
            msg = f"the benchmark's own lines were rejected: {problems}"
            raise SystemExit(msg) from None
    return appended


def open_raw(bench: Bench, store: str, ledger: Ledger) -> tuple[SQLiteRaw | PostgresRaw, str]:
    """The raw driver's table for a store, and a note on its settings."""
    if store == "sqlite":
        sync = sqlite_synchronous(ledger)
        note = f"sqlite: WAL, PRAGMA synchronous={sync} on the ledger's and the raw connection"
        return SQLiteRaw(bench.tmp / "raw.db", sync), note
    url = bench.args.postgres_url
    return PostgresRaw(url, bench.schema("raw")), f"postgresql: {pg_settings(url)}"


def measure_store(bench: Bench, store: str) -> tuple[list[Result], list[str]]:
    """Raw and ledger appends, single and batched, on one store."""
    args = bench.args
    ledger = bench.open_ledger(store, "ledger")
    pop = Population(bench.occurred_from())
    raw, note = open_raw(bench, store, ledger)
    raw_single = Result(store, "raw 1 row/commit", args.single_calls)
    single = Result(store, "ledger append_batch(1 line)", args.single_calls, raw=raw_single)
    raw_batch = Result(store, f"raw executemany {BATCH}/commit", args.events)
    batch = Result(store, f"ledger append_batch({BATCH} lines)", args.events, raw=raw_batch)
    try:
        append_all(ledger, [[line] for line in pop.lines(40)])  # warm up
        append_all(ledger, chunked(pop.lines(BATCH), BATCH))
        raw.single(raw_rows(40))
        raw.batched(raw_rows(BATCH))
        for _ in range(args.repeat):
            raw_single.seconds.append(timed(partial(raw.single, raw_rows(single.events))))
            lines = [[line] for line in pop.lines(single.events)]
            single.seconds.append(timed(partial(append_all, ledger, lines)))
            raw_batch.seconds.append(timed(partial(raw.batched, raw_rows(batch.events))))
            lines = list(chunked(pop.lines(batch.events), BATCH))
            batch.seconds.append(timed(partial(append_all, ledger, lines)))
        line_bytes = sum(len(line) for line in lines[-1]) / len(lines[-1])
        sizes = (
            f"{store}: NDJSON line {line_bytes:.0f} B, stored state"
            f" {stored_state_bytes(ledger):.0f} B per event on average;"
            f" raw rows carry {PAYLOAD_BYTES} B"
        )
        return [raw_single, single, raw_batch, batch], [note, sizes]
    finally:
        raw.close()
        ledger.close()


# --- streaming --------------------------------------------------------------------


def memory_kib() -> tuple[int, int]:
    """Resident set size now and at its peak, in KiB."""
    status = Path("/proc/self/status")
    if status.exists():
        lines = status.read_text().splitlines()
        values = dict(line.split(":", 1) for line in lines if line.startswith("Vm"))
        return int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak, peak


@dataclass(frozen=True)
class StreamMark:
    """Where the stream was when memory was sampled."""

    percent: int
    lines: int
    seconds: float
    rss_kib: int
    peak_kib: int


def stream_store(bench: Bench, store: str, total: int) -> list[StreamMark]:
    """Stream ``total`` generated lines through append_stream, sampling memory."""
    ledger = bench.open_ledger(store, "stream")
    pop = Population(bench.occurred_from(), seed=2)
    marks = [(percent, max(1, total * percent // 100)) for percent in (10, 50, 100)]
    samples = [StreamMark(0, 0, 0.0, *memory_kib())]
    done = 0
    start = time.perf_counter()
    try:
        for result in ledger.append_stream(pop.lines(total), batch_size=BATCH):
            done += result.appended + result.duplicates
            while marks and done >= marks[0][1]:
                percent = marks.pop(0)[0]
                elapsed = time.perf_counter() - start
                samples.append(StreamMark(percent, done, elapsed, *memory_kib()))
    finally:
        ledger.close()
    return samples


def stream_in_child(
    args: argparse.Namespace, tmp: Path, run_id: str, store: str
) -> list[StreamMark]:
    """``stream_store`` in this (fresh) process; drops its own schema."""
    definition, raw, _ = load_register()
    bench = Bench(args, tmp, definition, raw, run_id=run_id)
    try:
        return stream_store(bench, store, args.stream_lines)
    finally:
        bench.drop_schemas()


def stream_fresh(bench: Bench, store: str) -> list[StreamMark]:
    """Stream in a newly spawned interpreter, so its memory starts from nothing.

    In this process the earlier measurements have already grown the heap, and
    freed memory is reused without showing in RSS: growth would be hidden.
    """
    bench.schemas.append(f"{bench.run_id}_stream")  # dropped again if the child dies
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        job = pool.submit(stream_in_child, bench.args, bench.tmp, bench.run_id, store)
        return job.result()


# --- profiling --------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """A timed part of the append path; children run inside it."""

    key: str
    label: str
    children: tuple[Phase, ...] = ()


APPEND_PHASES = Phase(
    "append_batch",
    "Ledger.append_batch",
    (
        Phase(
            "parse",
            "parse_lines",
            (Phase("validate", "TypeAdapter(AppendLine).validate_python"),),
        ),
        Phase("digest", "digest_idempotency", (Phase("hmac", "index_digest x2"),)),
        Phase("sync", "Ledger._sync_registry (2 SELECTs)"),
        Phase("reads", "select_idempotency + select_subjects"),
        Phase(
            "check",
            "check_batch",
            (Phase("notice", "notice_in_force"), Phase("rules", "check_line")),
        ),
        Phase(
            "to_stored",
            "Ledger._to_stored",
            (
                Phase("versions", "select_stream_versions"),
                Phase("keys", "KeyRing.load (SELECT + unwrap)"),
                Phase(
                    "stored",
                    "PydanticMapper.stored_from_state",
                    (
                        Phase("seal", "KeyRing.seal (AES-GCM, base64, new keys)"),
                        Phase("encode", "OrjsonTranscoder.encode"),
                    ),
                ),
            ),
        ),
        Phase("insert", "recorder.insert_events (the transaction)"),
    ),
)


class PhaseTimer:
    """Accumulates the wall-clock time spent inside wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, phase: str, fn: Callable[P, R]) -> Callable[P, R]:
        """``fn``, adding the time of each call to ``phase``."""

        def timed_call(*args: P.args, **kwargs: P.kwargs) -> R:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start

        return timed_call


class _TimedAdapter:
    """Stands in for the module's TypeAdapter, timing ``validate_python``."""

    def __init__(self, validate_python: Callable[..., object], timer: PhaseTimer) -> None:
        self.validate_python = timer.wrap("validate", validate_python)


def instrumented(ledger: Ledger, timer: PhaseTimer) -> contextlib.ExitStack:
    """Patch timing wrappers around the append path's phases (this process only)."""
    recorder: Any = ledger.ledger_recorder
    mapper: Any = ledger.mapper
    app, appending = application_module, appending_module
    targets: list[tuple[object, str, str]] = [
        (ledger, "append_batch", "append_batch"),
        (app, "parse_lines", "parse"),
        (app, "digest_idempotency", "digest"),
        (appending, "index_digest", "hmac"),
        (ledger, "_sync_registry", "sync"),
        (recorder, "select_idempotency", "reads"),
        (recorder, "select_subjects", "reads"),
        (app, "check_batch", "check"),
        (appending, "notice_in_force", "notice"),
        (appending, "check_line", "rules"),
        (ledger, "_to_stored", "to_stored"),
        (recorder, "select_stream_versions", "versions"),
        (ledger.keyring, "load", "keys"),
        (mapper, "stored_from_state", "stored"),
        (ledger.keyring, "seal", "seal"),
        (mapper.transcoder, "encode", "encode"),
        (recorder, "insert_events", "insert"),
    ]
    stack = contextlib.ExitStack()
    for owner, name, phase in targets:
        wrapped = timer.wrap(phase, getattr(owner, name))
        stack.enter_context(mock.patch.object(owner, name, wrapped))
    adapter = _TimedAdapter(appending._LINE.validate_python, timer)
    stack.enter_context(mock.patch.object(appending, "_LINE", adapter))
    return stack


def print_phase(phase: Phase, timer: PhaseTimer, per: int, total: float, depth: int) -> None:
    """One phase, its children, and the parent's own rest, in microseconds per unit."""
    spent = timer.seconds.get(phase.key, 0.0)
    label = "  " * depth + phase.label
    print(f"  {label:<56} {spent / per * 1e6:>10.2f} {spent / total:>6.1%}")
    for child in phase.children:
        print_phase(child, timer, per, total, depth + 1)
    if phase.children:
        rest = spent - sum(timer.seconds.get(c.key, 0.0) for c in phase.children)
        label = "  " * (depth + 1) + "rest"
        print(f"  {label:<56} {rest / per * 1e6:>10.2f} {rest / total:>6.1%}")


def phase_run(ledger: Ledger, batches: Sequence[Sequence[bytes]], title: str) -> None:
    """Append under the timing wrappers and print the phase tree."""
    timer = PhaseTimer()
    events = sum(len(b) for b in batches)
    with instrumented(ledger, timer):
        wall = timed(partial(append_all, ledger, batches))
    per = len(batches) if len(batches[0]) == 1 else events
    unit = "us/call" if per == len(batches) else "us/event"
    print(f"\n{title}: {events} events, {events / wall:,.0f} events/s under the wrappers")
    print(f"  {'phase':<56} {unit:>10} {'share':>6}")
    print_phase(APPEND_PHASES, timer, per, timer.seconds["append_batch"], 0)


def print_profile(store: str, events: int, profiler: cProfile.Profile, top: int = 30) -> None:
    """cProfile's functions with the most own time, in microseconds per event."""
    stats: Any = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    print(f"\n{store}: cProfile of append_batch({BATCH} lines), {events} events")
    print(f"  {'own us/ev':>9} {'cum us/ev':>9} {'calls/ev':>8}  function")
    for (filename, line, name), (_, calls, own, cum, _) in rows:
        where = "/".join(Path(filename).parts[-2:]) if line else "builtin"
        print(
            f"  {own / events * 1e6:>9.2f} {cum / events * 1e6:>9.2f}"
            f" {calls / events:>8.2f}  {name} ({where}:{line})"
        )


def profile_store(bench: Bench, store: str) -> None:
    """Phase times of both paths and cProfile of the 1000-line path on one store."""
    events = bench.args.profile_events
    ledger = bench.open_ledger(store, "profile")
    pop = Population(bench.occurred_from(), seed=3)
    try:
        append_all(ledger, chunked(pop.lines(2 * BATCH), BATCH))  # warm up
        singles = [[line] for line in pop.lines(bench.args.profile_calls)]
        phase_run(ledger, singles, f"{store}: append_batch(1 line) by phase")
        batches = list(chunked(pop.lines(events), BATCH))
        phase_run(ledger, batches, f"{store}: append_batch({BATCH} lines) by phase")
        batches = list(chunked(pop.lines(events), BATCH))
        profiler = cProfile.Profile()
        profiler.runcall(append_all, ledger, batches)
        print_profile(store, events, profiler)
    finally:
        ledger.close()


# --- report -----------------------------------------------------------------------


def print_results(results: Sequence[Result], notes: Sequence[str], repeat: int) -> None:
    """The plain table of measured paths."""
    print(f"\nmedian of {repeat} run(s) per path")
    row = "{:<11} {:<32} {:>7} {:>9} {:>10}  {}"
    print(row.format("store", "path", "events", "events/s", "ledger/raw", "each run"))
    for r in results:
        runs = " ".join(f"{r.events / s:,.0f}" for s in r.seconds)
        print(row.format(r.store, r.path, r.events, f"{r.rate:,.0f}", r.ratio, runs))
    for note in notes:
        print(f"  {note}")


def print_stream(store: str, total: int, samples: Sequence[StreamMark]) -> None:
    """Rate and memory at the start and at 10%, 50% and 100% of the stream."""
    print(f"\n{store}: append_stream of {total} generated lines, batch_size={BATCH},")
    print("  in a fresh process; lines/s is the rate since the previous mark")
    row = "  {:>5} {:>9} {:>8} {:>9} {:>8} {:>9}"
    print(row.format("at", "lines", "seconds", "lines/s", "RSS MiB", "peak MiB"))
    for before, s in zip([None, *samples], samples, strict=False):
        rate = ""
        if before is not None and s.seconds > before.seconds:
            rate = f"{(s.lines - before.lines) / (s.seconds - before.seconds):,.0f}"
        rss, peak = f"{s.rss_kib / 1024:.1f}", f"{s.peak_kib / 1024:.1f}"
        print(row.format(f"{s.percent}%", s.lines, f"{s.seconds:.1f}", rate, rss, peak))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add = parser.add_argument
    add("--postgres-url", default=DEFAULT_PG_URL)
    add("--events", type=int, default=50_000, help="events per 1000-line run")
    add("--single-calls", type=int, default=2_000, help="one-line calls per run")
    add("--repeat", type=int, default=3, help="runs per path (the median is shown)")
    add("--stream-lines", type=int, default=0, help="lines to stream (0: skip)")
    add("--only", choices=("sqlite", "postgres"))
    add("--profile", action="store_true", help="phase times and cProfile")
    add("--profile-events", type=int, default=20_000, help="events to profile")
    add("--profile-calls", type=int, default=500, help="one-line calls to profile")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure every requested store and print the tables."""
    args = parse_args(argv)
    stores = [s for s in ("sqlite", "postgresql") if s.startswith(args.only or "")]
    definition, raw, origin = load_register()
    print(f"register: {origin}")
    with tempfile.TemporaryDirectory(prefix="bench-append-") as tmp:
        bench = Bench(args, Path(tmp), definition, raw)
        try:
            results: list[Result] = []
            notes: list[str] = []
            for store in stores:
                measured, store_notes = measure_store(bench, store)
                results += measured
                notes += store_notes
            print_results(results, notes, args.repeat)
            for store in stores if args.stream_lines else ():
                print_stream(store, args.stream_lines, stream_fresh(bench, store))
            for store in stores if args.profile else ():
                profile_store(bench, store)
        finally:
            bench.drop_schemas()


if __name__ == "__main__":
    main()
