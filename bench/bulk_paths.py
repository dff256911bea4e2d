"""Two bulk paths issue 10 proposed, measured against what the ledger does.

**COPY against binary arrays** (PostgreSQL). The append function takes a batch's
rows as one binary array parameter per column (``ledger_append_v5``: the lock, the
check and every insert in one statement, one round trip). This probe writes the
same 1000 event rows and idempotency rows, shaped as the ledger's (stored state of
``--state-bytes``, 32-byte digests), into a scratch schema three ways, in
alternating rounds, inside one transaction each: ``INSERT ... SELECT FROM
unnest(%b arrays)`` as one statement (the ledger's way), two ``COPY ... FROM STDIN
(FORMAT BINARY)`` followed by a read of the positions, and the same arrays sent as
text-format parameters (``%s``: psycopg then dumps each list in Python, which is
what the ledger avoids). It prints wall and client CPU per batch.

**Validation of a whole batch at once** (no store). One ``TypeAdapter`` call over
a list of 1000 parsed lines against 1000 calls of the per-line validator that
``parse_lines`` uses, on demo-population lines; and ``parse_lines`` itself.

    .venv/bin/python -m bench.bulk_paths [--postgres-url URL] [--rounds 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import sql
from pydantic import TypeAdapter

from bench.population import DEFAULT_PG_URL, SEAL_ON_REQUEST, open_core, pg_base_url, register
from bench.stores import BATCH, Feed
from ledger.appending import batch
from schemas import events as ev

Row = tuple[uuid.UUID, int, str, bytes, bytes, bytes]
"""stream, version, topic, stored state, idempotency key digest, content digest."""

_EVENTS = (
    "CREATE TABLE {s}.ev (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
    " topic text, state bytea, notification_id bigserial,"
    " PRIMARY KEY (originator_id, originator_version))"
)
_EVENTS_INDEX = "CREATE UNIQUE INDEX ON {s}.ev (notification_id)"
_IDEMPOTENCY = (
    "CREATE TABLE {s}.idem (key_digest bytea PRIMARY KEY, content_digest bytea NOT NULL,"
    " originator_id uuid NOT NULL, originator_version bigint NOT NULL)"
)
_ARRAYS = (
    "WITH i AS (INSERT INTO {s}.idem SELECT * FROM unnest("
    "{p}::bytea[], {p}::bytea[], {p}::uuid[], {p}::bigint[]))"
    " INSERT INTO {s}.ev (originator_id, originator_version, topic, state)"
    " SELECT * FROM unnest({p}::uuid[], {p}::bigint[], {p}::text[], {p}::bytea[])"
    " RETURNING notification_id"
)


class Rows:
    """Batches of rows for ``BATCH`` streams in turn, each stream's versions in order."""

    def __init__(self, state_bytes: int) -> None:
        self.state_bytes = state_bytes
        self.streams = [uuid.uuid4() for _ in range(BATCH)]
        self.versions = dict.fromkeys(self.streams, 0)

    def batch(self) -> list[Row]:
        """The next ``BATCH`` rows."""
        rows: list[Row] = []
        for stream in self.streams:
            self.versions[stream] += 1
            rows.append((stream, self.versions[stream], "PersonalDataRecorded",
                         os.urandom(self.state_bytes), os.urandom(32), os.urandom(32)))  # fmt: skip
        return rows


def _columns(rows: Sequence[Row]) -> list[list[Any]]:
    idempotency: list[list[Any]] = [[r[4] for r in rows], [r[5] for r in rows],
                                    [r[0] for r in rows], [r[1] for r in rows]]  # fmt: skip
    events: list[list[Any]] = [[r[0] for r in rows], [r[1] for r in rows],
                               [r[2] for r in rows], [r[3] for r in rows]]  # fmt: skip
    return idempotency + events


class Writers:
    """The three ways of writing one batch, each in a transaction of its own."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self.conn = conn
        s = sql.Identifier(schema)
        self.binary = sql.SQL(_ARRAYS).format(s=s, p=sql.SQL("%b"))
        self.text = sql.SQL(_ARRAYS).format(s=s, p=sql.SQL("%t"))
        self.copy_idem = sql.SQL("COPY {}.idem FROM STDIN (FORMAT BINARY)").format(s)
        self.copy_events = sql.SQL(
            "COPY {}.ev (originator_id, originator_version, topic, state)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(s)
        self.last = sql.SQL("SELECT last_value FROM {}.ev_notification_id_seq").format(s)

    def arrays(self, rows: Sequence[Row]) -> None:
        """The ledger's way: one statement, one binary array per column."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(self.binary, _columns(rows), prepare=True)
            cur.fetchall()

    def text_arrays(self, rows: Sequence[Row]) -> None:
        """The same statement with text-format array parameters."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(self.text, _columns(rows), prepare=True)
            cur.fetchall()

    def copy(self, rows: Sequence[Row]) -> None:
        """Two binary COPYs, then the positions' end read back."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            with cur.copy(self.copy_idem) as cp:
                cp.set_types(["bytea", "bytea", "uuid", "int8"])
                for r in rows:
                    cp.write_row((r[4], r[5], r[0], r[1]))
            with cur.copy(self.copy_events) as cp:
                cp.set_types(["uuid", "int8", "text", "bytea"])
                for r in rows:
                    cp.write_row(r[:4])
            cur.execute(self.last)
            cur.fetchone()


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def copy_against_arrays(url: str, rounds: int, state_bytes: int) -> None:
    """Print the medians of each way over ``rounds`` alternating rounds (two warm-up)."""
    schema = f"bench_bulk_{os.getpid()}"
    with psycopg.connect(pg_base_url(url), autocommit=True) as conn:
        s = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
        try:
            for statement in (_EVENTS, _EVENTS_INDEX, _IDEMPOTENCY):
                conn.execute(sql.SQL(statement).format(s=s))
            writers, rows = Writers(conn, schema), Rows(state_bytes)
            ways = {
                "INSERT ... unnest(binary arrays), the ledger's": writers.arrays,
                "COPY FROM STDIN (FORMAT BINARY) x2": writers.copy,
                "INSERT ... unnest(text arrays)": writers.text_arrays,
            }
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
            for _ in range(rounds + 2):
                for name, write in ways.items():
                    chunk = rows.batch()
                    times[name].append(timed(lambda w=write, c=chunk: w(c)))  # type: ignore[misc]
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(s))
    print(f"PostgreSQL: {BATCH} event rows + {BATCH} idempotency rows per transaction,"
          f" state {state_bytes} B, median of {rounds} rounds")  # fmt: skip
    for name, measured in times.items():
        wall = statistics.median(w for w, _ in measured[2:])
        cpu = statistics.median(c for _, c in measured[2:])
        print(f"  {name:48s} wall {wall:7.2f} ms  client CPU {cpu:6.2f} ms")


def whole_batch_validation(rounds: int) -> None:
    """Per-line validation against one call over the whole list, on demo lines."""
    definition = register()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        keys = Path(tmp) / "keys"
        keys.mkdir()
        core = open_core(f"sqlite:///{tmp}/ledger.db", keys, definition, seal_every=SEAL_ON_REQUEST)
        lines = Feed(core, definition, seed=1).take(BATCH)
    raws = [orjson.loads(line) for line in lines]
    per_line = TypeAdapter[Any](ev.AppendLine).validator.validate_python  # as parse_lines
    whole = TypeAdapter[list[Any]](list[ev.AppendLine])
    numbered = list(enumerate(lines, start=1))
    now = datetime.now(UTC)
    ways: dict[str, Callable[[], object]] = {
        "one validate_python per line (the ledger's)": lambda: [per_line(r) for r in raws],
        "one validate_python of the whole list": lambda: whole.validate_python(raws),
        "parse_lines (loads, checks, validation)": lambda: batch.parse_lines(numbered, now),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds + 2):
        for name, work in ways.items():
            times[name].append(timed(work)[0])
    print(f"validation: {BATCH} demo-population lines, median of {rounds} rounds")
    for name, measured in times.items():
        per = statistics.median(measured[2:]) * 1000 / BATCH
        print(f"  {name:48s} {per:6.2f} us per line")


def main(argv: Sequence[str] | None = None) -> None:
    """Run both probes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help="a PostgreSQL database")
    parser.add_argument("--rounds", type=int, default=12, help="measured rounds per way")
    parser.add_argument("--state-bytes", type=int, default=470, help="stored state per event")
    args = parser.parse_args(argv)
    whole_batch_validation(args.rounds)
    copy_against_arrays(args.postgres_url, args.rounds, args.state_bytes)


if __name__ == "__main__":
    main()
