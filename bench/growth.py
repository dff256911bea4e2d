"""Append latency and rate as the store grows: the ledger beside the raw driver.

Run through ``bench/append.py --growth [SIZES]`` (after its main table); SIZES are
comma-separated counts of stored events, ``10000,100000,1000000`` when the flag is
given alone. ``--growth-calls N`` (1000) one-line calls and ``--growth-batches N``
(5) 1000-line calls are measured at each size; ``--only`` and ``--seal`` apply.

For each store, one fresh ledger (``Bench.open_core(store, "growth")``) and one
fresh raw driver's table (``bench.append.SQLiteRaw`` / ``PostgresRaw``) grow
together through the sizes, smallest first:

loading (not timed)
    the ledger takes 1000-line ``append_batch`` calls of the benchmark's lines
    (``bench.append.Feed``) until it holds at least the size: stored events are
    counted by ``recorder.max_notification_id()``, so findings, notices and the
    events of earlier measurements count too. The raw table is then filled with
    its ``batched`` method (``executemany``, 1000 rows per commit) to the same
    number of rows, each carrying as many bytes as the ledger's average stored
    state. Under ``--seal on-request`` the ledger is sealed after loading (not
    timed either), as a live ledger sealed now and then would be; under
    ``each-call`` every call seals as it goes.
settling (not timed)
    ``os.sync()``: what loading left dirty is written back before the window opens
    (``settle``), so the kernel's writeback of the load does not land in it.
one-line latency
    ``WARM_UP`` (100) untimed one-line calls and raw rows (at the first size the
    one-line path is cold otherwise), then ``--growth-calls`` calls of
    ``core.ledger.append_batch([line])`` and as many raw rows, each inserted and
    committed alone (``single`` on a one-row list), a ledger call and a raw row in
    turn (``alternately``), each timed on its own (the lines and rows are made
    before the clock starts). ``p50`` and ``p99`` are the median and the 99th
    percentile of each side's times.
batched rate
    ``--growth-batches`` 1000-line ``append_batch`` calls (lines appended per
    second, findings not counted) and as many 1000-row ``batched`` calls of the raw
    table, in turn, each timed on its own; the rate is rows over the sum of times.

How to read the table: one per store, a row per size; ``stored events`` is the
count when the size's measurement began (the raw table held as many rows). Each
measurement adds about ``WARM_UP`` + calls + 1000 x batches events (6,100 by
default): a size the store has already passed is measured where it stands.
``p50 ledger/raw`` is the ledger's one-line median over the raw driver's, at that
size. The last line divides the median one-line time at the largest size by the
one at the smallest, for the ledger and for the raw driver: the issue's bound is
at most 1.25 for the ledger. A raw figure that grows as much as the ledger's says
the database itself slows down with size (its indexes outgrow the caches, for
instance), not the ledger's own work. On PostgreSQL the table is followed by the
server settings that decide how plans age as the tables grow. The benchmark never
runs ``ANALYZE``: with ``autovacuum=off`` the tables have no column statistics, the
planner guesses that a fixed share of a table matches each key (some 22,000 events
per stream at a million events, where there are about ten), so estimated costs grow
with the tables, and a plan whose estimate passes ``jit_above_cost`` is JIT-compiled
at every execution, tens of milliseconds each time. The measurements take a few
seconds per size; the loading dominates (one to three minutes per store for a
million events: the ledger's calls, sealing, then the raw table). Loading progress
goes to stderr when it is a terminal.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import psycopg

from bench.population import pg_base_url
from bench.stores import (
    BATCH,
    Bench,
    Feed,
    PostgresRaw,
    SQLiteRaw,
    append_all,
    chunked,
    open_raw,
    raw_rows,
    stored_state_bytes,
    timed,
)
from ledger.bootstrap import Core

RAW_LOAD_ROWS = 50 * BATCH
"""Raw rows generated at a time while loading (a million at once would not fit well)."""
WARM_UP = 100
"""Untimed one-line calls (and raw rows) before each size's timed ones; with 5, the
ledger's SQLite p50 at the first size read 15 to 30% above the later ones."""
PLANNER_SETTINGS = ("autovacuum", "jit", "jit_above_cost", "shared_buffers")
"""PostgreSQL settings printed under the table: who analyzes, what gets compiled."""
BOUND = 1.25
"""The issue's bound on the ledger's one-line p50 at the largest size over the smallest."""


@dataclass(frozen=True)
class Point:
    """What was measured at one size."""

    stored: int
    ledger: list[float]
    raw: list[float]
    ledger_rate: float
    raw_rate: float


def p50(seconds: Sequence[float]) -> float:
    """The median, in milliseconds."""
    return statistics.median(seconds) * 1000


def p99(seconds: Sequence[float]) -> float:
    """The 99th percentile (inclusive method), in milliseconds."""
    if len(seconds) < 2:
        return seconds[0] * 1000
    return statistics.quantiles(seconds, n=100, method="inclusive")[98] * 1000


def stored_events(core: Core) -> int:
    """Events in the ledger's store: the highest notification id."""
    return core.ledger.recorder.max_notification_id() or 0


def progress(text: str) -> None:
    """Loading progress, on stderr when it is a terminal (overwritten in place)."""
    if sys.stderr.isatty():
        print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)


def load_ledger(core: Core, feed: Feed, size: int, label: str) -> int:
    """Append 1000-line calls until the ledger holds ``size`` events; the count."""
    stored = stored_events(core)
    while stored < size:
        append_all(core, [feed.take(BATCH)])
        stored = stored_events(core)
        progress(f"{label}: loading the ledger, {stored:,} of {size:,} events")
    return stored


def load_raw(raw: SQLiteRaw | PostgresRaw, rows: int, payload: int, label: str) -> int:
    """Insert ``rows`` rows (none if not positive) through ``batched``; the count."""
    done = 0
    while done < rows:
        count = min(RAW_LOAD_ROWS, rows - done)
        raw.batched(raw_rows(count, payload))
        done += count
        progress(f"{label}: loading the raw table, {done:,} of {rows:,} rows")
    return done


def settle() -> None:
    """Have the kernel write back what loading left dirty, before a size's window opens.

    Loading a million events (and as many raw rows) leaves hundreds of megabytes of
    dirty pages that the kernel writes back over the next seconds, slowing the
    commits that meet it. Measured first, right after the raw table's load, the
    ledger's SQLite p50 at 1M read 1.32 of its p50 at 10k while the raw row's,
    measured after it, read 0.76 (300 calls each); the same code grown alone read
    1.00 (``docs/performance-history.md``, sixth round).
    """
    os.sync()


def alternately(
    ledger: Sequence[Callable[[], object]], raw: Sequence[Callable[[], object]]
) -> tuple[list[float], list[float]]:
    """Seconds of each call, a ledger call and a raw one in turn (who goes first alternates).

    Both then meet the same checkpoints, writeback and neighbours, so a pause of the
    machine or the server falls on both rather than on whichever ran at that moment.
    """
    ledger_times: list[float] = []
    raw_times: list[float] = []
    for i, (ours, theirs) in enumerate(zip(ledger, raw, strict=True)):
        if i % 2:
            raw_times.append(timed(theirs))
            ledger_times.append(timed(ours))
        else:
            ledger_times.append(timed(ours))
            raw_times.append(timed(theirs))
    return ledger_times, raw_times


def measure(
    bench: Bench, core: Core, feed: Feed, raw: SQLiteRaw | PostgresRaw, payload: int
) -> tuple[Point, int]:
    """One size: one-line latencies and batched rates; (point, raw rows added)."""
    args = bench.args
    stored = stored_events(core)
    settle()
    append_all(core, [[line] for line in feed.take(WARM_UP)])
    raw.single(raw_rows(WARM_UP, payload))
    lines = feed.take(args.growth_calls)
    rows = raw_rows(args.growth_calls, payload)
    ledger, single = alternately(
        [partial(append_all, core, [[line]]) for line in lines],
        [partial(raw.single, [row]) for row in rows],
    )
    count = args.growth_batches * BATCH
    batches = list(chunked(feed.take(count), BATCH))
    raw_batches = list(chunked(raw_rows(count, payload), BATCH))
    ledger_batches, raw_batched = alternately(
        [partial(append_all, core, [batch]) for batch in batches],
        [partial(raw.batched, batch) for batch in raw_batches],
    )
    ledger_rate, raw_rate = count / sum(ledger_batches), count / sum(raw_batched)
    point = Point(stored, ledger, single, ledger_rate, raw_rate)
    return point, WARM_UP + len(rows) + count


def grow(bench: Bench, store: str, sizes: Sequence[int]) -> list[Point]:
    """Grow one fresh ledger and one fresh raw table through ``sizes``, measuring at each."""
    core = bench.open_core(store, "growth")
    feed = Feed(core, bench.definition, seed=4)
    raw, _ = open_raw(bench, store, core, "growth_raw")
    points: list[Point] = []
    raw_count, payload = 0, 0
    try:
        for size in sizes:
            label = f"{store} at {size:,}"
            load_ledger(core, feed, size, label)
            if bench.seal_every is not None:
                core.seal()
            stored = stored_events(core)
            payload = payload or stored_state_bytes(core)
            raw_count += load_raw(raw, stored - raw_count, payload, label)
            progress("")
            point, added = measure(bench, core, feed, raw, payload)
            points.append(point)
            raw_count += added
    finally:
        progress("")
        raw.close()
        core.close()
    return points


def print_growth(bench: Bench, store: str, points: Sequence[Point]) -> None:
    """One store's table, and the p50 at the largest size over the smallest."""
    args = bench.args
    print(
        f"\n{store}: growth of one ledger and one raw table, --seal {args.seal};"
        f" one-line: {args.growth_calls} calls per size, each timed;"
        f" batched: {args.growth_batches} calls of {BATCH} lines per size;"
        " ledger and raw in turn, after os.sync()"
    )
    row = "  {:>13} {:>13} {:>8} {:>10} {:>8} {:>14} {:>17} {:>16}"
    print(
        row.format(
            "stored events", "ledger p50 ms", "p99 ms", "raw p50 ms", "p99 ms",
            "p50 ledger/raw", "ledger batch ev/s", "raw batch rows/s",
        )
    )  # fmt: skip
    for p in points:
        ratio = p50(p.ledger) / p50(p.raw)
        print(
            row.format(
                f"{p.stored:,}", f"{p50(p.ledger):.3f}", f"{p99(p.ledger):.3f}",
                f"{p50(p.raw):.3f}", f"{p99(p.raw):.3f}", f"{ratio:.2f}",
                f"{p.ledger_rate:,.0f}", f"{p.raw_rate:,.0f}",
            )
        )  # fmt: skip
    first, last = points[0], points[-1]
    ledger = p50(last.ledger) / p50(first.ledger)
    raw = p50(last.raw) / p50(first.raw)
    print(
        f"  p50 at largest / p50 at smallest ({last.stored:,} / {first.stored:,} events):"
        f" ledger {ledger:.2f} (the issue's bound: <= {BOUND}), raw {raw:.2f}"
    )
    if store == "postgresql":
        print(f"  postgresql: {planner_settings(args.postgres_url)}; no ANALYZE by the benchmark")


def planner_settings(url: str) -> str:
    """The server's ``PLANNER_SETTINGS``, as ``name=value``."""
    with psycopg.connect(pg_base_url(url)) as conn:
        values = [
            f"{name}={row[0]}"
            for name in PLANNER_SETTINGS
            if (row := conn.execute(f"SHOW {name}").fetchone()) is not None
        ]
    return ", ".join(values)


def run_growth(bench: Bench, stores: Sequence[str]) -> None:
    """Grow and measure each store, printing its table as soon as it is done."""
    for store in stores:
        print_growth(bench, store, grow(bench, store, bench.args.growth))
