"""Append throughput of the ledger beside the raw driver, on SQLite and PostgreSQL.

Run from the project folder::

    .venv/bin/python bench/append.py [--postgres-url URL] [--events N]
        [--single-calls N] [--repeat N] [--stream-lines N]
        [--seal on-request|each-call] [--only sqlite|postgres] [--profile]
        [--growth [SIZES]] [--growth-calls N] [--growth-batches N]

Every ledger is a fresh one made by the composition root
(``ledger.bootstrap.initialise``) with the example register
(``examples/register.toml``). What it measures, per store, all in one process and
one run (the machine's speed drifts, so the raw figures are measured again every
time, never quoted):

``raw 1 row/commit``
    the driver alone (``sqlite3`` / psycopg) inserting one row per commit into a
    plain table shaped like the events table (uuid, bigint, text, bytes as long as
    the ledger's average stored state, the same primary key; on PostgreSQL also
    the bigserial position).
``raw 1 row + digest row/commit``
    the same row and, in the same commit (one statement on PostgreSQL), a row in
    a table shaped like the ledger's idempotency table (two random 32-byte
    digests, the key digest its primary key): the least a line with an
    idempotency key stores. A note prints the ledger's one-line rate over it; the
    ``ledger/raw`` column (the issue's aim) stays against one row.
``ledger append_batch(1 line)``
    ``core.ledger.append_batch([line])`` once per event: parse, pydantic
    validation, idempotency digests, register checks, AES-GCM sealing of personal
    data, findings, one transaction.
``raw executemany 1000/commit``
    the driver alone, ``executemany`` of 1000 rows per transaction.
``ledger append_batch(1000 lines)``
    ``core.ledger.append_batch`` with 1000 NDJSON lines per call.
``core.seal() of N events``
    (``--seal on-request`` only) after each ledger run above, the time to seal
    what it appended: the Merkle tree caught up over the run's events and one
    signed checkpoint. Not included in the append rows.

Sealing policy (``--seal``): the library seals the log after every committed
call unless the ledger is opened with ``seal_every``. ``on-request`` (the
default) opens every ledger with an infinite interval, so the append rows are
appends only and sealing has its own rows; ``each-call`` keeps the library's
default, so every ``append_batch`` call in the append rows (and the end of the
stream) includes one seal, as ``ledger append`` does.

The lines are the demo population (``ledger.demo.population``, the generator
behind ``ledger demo``): registrations, customer and metering data with valid
personal identity codes, contracts, consents and withdrawals, objections, web
data, derived profiles, corrections and disclosures, every id and field from the
register; every line has an idempotency key and passes every check (some are
judged and add a finding event, not counted in the rates). The subjects are
taken 1000 at a time, one line of each in turn (``bench.population.interleaved``),
so a 1000-line call mostly touches subjects stored by an earlier call, as a live
feed does. Lines are generated before the clock starts, except in the stream
test, where generating them is part of the run.

Round trips (PostgreSQL): after the timed runs, ``ROUND_TRIP_CALLS`` (50) more
one-line ``append_batch`` calls, then as many raw one-row commits
(``PostgresRaw.single``), run under cProfile, which counts the calls to psycopg's
``Connection.wait`` (psycopg 3 hands every exchange with the server, an execute or
a commit, to it) and who made them; nothing is patched. The notes print the waits
per call by caller and, as round trips, the waits less those from
``Connection.commit`` and ``rollback``: every connection here is in autocommit
mode (the library's pooled ones, and the raw table's), where those send nothing
(the pool commits at every check-in). SQLite is embedded in the process: no round
trips.

CPU of a one-line call: the one-line rows (ledger and raw) also read
``time.thread_time()`` of the thread that makes the calls (``Result.run``). A
note prints, per call, the wall time and that CPU beside the raw row's, and the
ledger's CPU alone over the raw row's whole time. The issue's 0.5 of raw needs a
call within twice the raw row's whole time, and the server's commit alone takes
about the raw row's wait: so that figure must be about 1 or less, whatever the
server's side does. On SQLite that CPU includes the database's own work, which
runs in the same thread.

How to read the table: each path runs ``--repeat`` times (fresh lines each time,
same store); ``events/s`` is the median rate (lines appended per second) and
``each run`` lists every run's rate in order, so a wide spread says the machine
was busy with something else. ``ledger/raw`` is the ledger's median over the raw
driver's median on the same path: 1.00 would mean the ledger costs nothing over
the bare driver. SQLite runs in WAL mode with the ledger connection's own
``PRAGMA synchronous`` (printed) on both connections, so both pay the same fsync
per commit.

``--stream-lines N`` streams N lines from a generator through
``core.ledger.append_stream(lines, batch_size=1000)`` on a fresh store, in a
freshly spawned process (so earlier measurements do not mask growth), and prints
the rate and the resident memory (now and peak) at the start and at 10%, 50% and
100%: figures that stay flat mean memory does not grow with the stream. The first
mark includes drawing the first 1000 subjects' histories from the generator
(about 10,500 lines) before the first line can be taken in turn.

``--profile`` then runs one-line calls and 1000-line calls on each store under
cProfile (the standard profiler; nothing in the library is patched) and prints,
for each, the time per call or per event of each function of the append path,
as a tree from ``Ledger.append_batch`` down through the project's own functions
(a callee's time is the time spent in it when called from its parent; library
and builtin calls are leaves), followed by the own time grouped by module. The
profiler's overhead inflates functions with many small calls; compare shares,
not absolute figures, with the unprofiled table.

``--growth [SIZES]`` then grows one fresh ledger and one fresh raw table per store
through SIZES stored events (comma-separated, ``10000,100000,1000000`` when the
flag is given alone) and prints, per size, the one-line append latency (p50, p99
over ``--growth-calls`` calls, default 1000) and the 1000-line rate
(``--growth-batches`` calls, default 5) of both, a ledger call and a raw one in
turn; see ``bench/growth.py``. Loading a million events through the ledger takes
one to three minutes per store.

Every store is fresh: SQLite files in a temporary folder, PostgreSQL schemas
named ``bench_<time>_<pid>_...``, dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.growth import run_growth
from bench.population import (
    DEFAULT_PG_URL,
    ROOT,
    register,
    rss_kib,
)
from bench.profiling import profile_store
from bench.stores import (
    BATCH,
    SEAL_POLICIES,
    Bench,
    Feed,
    PostgresRaw,
    Result,
    SQLiteRaw,
    append_all,
    chunked,
    open_raw,
    raw_digests,
    raw_rows,
    stored_state_bytes,
    timed,
)
from ledger.bootstrap import Core

GROWTH_SIZES = [10_000, 100_000, 1_000_000]
"""Stored-event counts of ``--growth`` given alone."""
ROUND_TRIP_CALLS = 50
"""One-line appends (and raw rows) whose exchanges with PostgreSQL are counted."""
NO_EXCHANGE = frozenset({"connection.commit", "connection.rollback"})
"""psycopg waits that send nothing on an autocommit connection (see ``trips``)."""
OUR_PACKAGES = ("ledger", "projections", "schemas")


def psycopg_waits(work: Callable[[], object]) -> Counter[str]:
    """Calls to psycopg's ``Connection.wait`` while ``work`` runs under cProfile, by caller.

    psycopg 3 hands every exchange with the server to ``Connection.wait``;
    cProfile counts the calls, and who made them, without patching anything.
    Callers are named ``module.function`` (``cursor.execute``, ``connection.commit``).
    """
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stats: Any = pstats.Stats(profiler)
    waits: Counter[str] = Counter()
    for (filename, _, name), entry in stats.stats.items():
        if name == "wait" and Path(filename).as_posix().endswith("psycopg/connection.py"):
            for (caller_file, _, caller), figures in entry[4].items():  # callers
                waits[f"{Path(caller_file).stem}.{caller}"] += figures[1]  # calls
    if not waits:
        msg = "psycopg's Connection.wait is not in the profile"
        raise SystemExit(msg)
    return waits


def trips(waits: Counter[str]) -> float:
    """Exchanges with the server among these waits.

    Every connection measured is in autocommit mode (the library's pooled ones,
    and the raw table's), where ``Connection.commit`` and ``rollback`` outside a
    ``transaction()`` block (the only place they are allowed) send nothing: the
    pool calls ``commit`` at every check-in.
    """
    return sum(n for caller, n in waits.items() if caller not in NO_EXCHANGE)


def round_trips(
    bench: Bench, store: str, core: Core, *, feed: Feed, raw: SQLiteRaw | PostgresRaw, payload: int
) -> list[str]:
    """Notes on the round trips to the server of one one-line append, ledger and raw."""
    if store == "sqlite":
        return ["sqlite: embedded in this process, no round trips to a server"]
    calls = ROUND_TRIP_CALLS
    lines = [[line] for line in feed.take(calls)]
    ledger = psycopg_waits(partial(append_all, core, lines))
    single = psycopg_waits(partial(raw.single, raw_rows(calls, payload)))

    def per_call(waits: Counter[str]) -> str:
        return ", ".join(f"{n / calls:.1f} {caller}" for caller, n in waits.most_common())

    return [
        f"{store}: {trips(ledger) / calls:.1f} round trips per one-line append"
        f" (--seal {bench.args.seal}); raw driver {trips(single) / calls:.1f} per row",
        f"{store}: psycopg Connection.wait calls per call, counted under cProfile over"
        f" {calls} calls, by caller: ledger {per_call(ledger)}; raw {per_call(single)}"
        " (connection.commit sends nothing on autocommit connections: not a round trip)",
    ]


def measure_store(bench: Bench, store: str) -> tuple[list[Result], list[str]]:
    """Raw and ledger appends, single and batched, on one store (and sealing apart)."""
    args = bench.args
    core = bench.open_core(store, "ledger")
    feed = Feed(core, bench.definition, seed=1)
    raw, note = open_raw(bench, store, core)
    raw_single = Result(store, "raw 1 row/commit", args.single_calls)
    raw_keyed = Result(store, "raw 1 row + digest row/commit", args.single_calls)
    single = Result(store, "ledger append_batch(1 line)", args.single_calls, raw=raw_single)
    raw_batch = Result(store, f"raw executemany {BATCH}/commit", args.events)
    batch = Result(store, f"ledger append_batch({BATCH} lines)", args.events, raw=raw_batch)
    seals = [Result(store, f"core.seal() of {r.events} events", r.events) for r in (single, batch)]
    on_request = bench.seal_every is not None
    try:
        append_all(core, [[line] for line in feed.take(40)])  # warm up
        append_all(core, chunked(feed.take(3 * BATCH), BATCH))  # past the first round
        core.seal()
        payload = stored_state_bytes(core)
        raw.single(raw_rows(40, payload))
        # As much as the ledger's warm-up wrote (its write-ahead log has wrapped):
        # a SQLite commit that grows the log file costs about twice one that
        # overwrites it (bench/sqlite_commit.py), which flattered the ledger's ratio.
        raw.batched(raw_rows(6 * BATCH, payload))
        for _ in range(args.repeat):
            raw_single.run(partial(raw.single, raw_rows(single.events, payload)))
            keyed = partial(raw.single_keyed, raw_rows(single.events, payload))
            raw_keyed.seconds.append(timed(partial(keyed, raw_digests(single.events))))
            lines = [[line] for line in feed.take(single.events)]
            single.run(partial(append_all, core, lines))
            seals[0].seconds.append(timed(core.seal))  # already sealed under each-call
            raw_batch.seconds.append(timed(partial(raw.batched, raw_rows(batch.events, payload))))
            lines = list(chunked(feed.take(batch.events), BATCH))
            batch.seconds.append(timed(partial(append_all, core, lines)))
            seals[1].seconds.append(timed(core.seal))
        line_bytes = sum(len(line) for line in lines[-1]) / len(lines[-1])
        exchanges = round_trips(bench, store, core, feed=feed, raw=raw, payload=payload)
        sizes = (
            f"{store}: NDJSON line {line_bytes:.0f} B, stored state"
            f" {stored_state_bytes(core)} B per event on average; raw rows carry {payload} B"
        )
        keyed_ratio = single.rate / raw_keyed.rate
        keyed_note = (
            f"{store}: one line per call over the raw driver's event row and idempotency row"
            f" in one commit (what a keyed line stores at the least): {keyed_ratio:.2f}"
        )
        measured = [raw_single, raw_keyed, single, raw_batch, batch, *(seals if on_request else ())]
        return measured, [note, sizes, keyed_note, cpu_note(store, single, raw_single), *exchanges]
    finally:
        raw.close()
        core.close()


def cpu_note(store: str, single: Result, raw: Result) -> str:
    """Where a one-line call's time goes: this process's CPU, and the wait beside it.

    ``thread_time`` of the thread that made the calls: Python, the driver, and on
    SQLite the database's own work too (it runs in this thread); the rest of the
    wall clock is the wait for the server's work and the disk. The issue's 0.5 of
    the raw row needs a call within twice the raw row's whole time.
    """
    wall, cpu = single.per_event()
    raw_wall, raw_cpu = raw.per_event()
    return (
        f"{store}: one line per call takes {wall:.0f} us, {cpu:.0f} us of them this"
        f" thread's CPU; the raw row {raw_wall:.0f} us, {raw_cpu:.0f} us of CPU. The"
        f" ledger's CPU alone is {cpu / raw_wall:.1f} x the raw row's whole time"
        f" (0.5 of raw needs the whole call within {2 * raw_wall:.0f} us)"
    )


# --- streaming --------------------------------------------------------------------


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
    core = bench.open_core(store, "stream")
    lines = Feed(core, bench.definition, seed=2).stream(total)
    marks = [(percent, max(1, total * percent // 100)) for percent in (10, 50, 100)]
    samples = [StreamMark(0, 0, 0.0, *rss_kib())]
    done = 0
    start = time.perf_counter()
    try:
        for result in core.ledger.append_stream(lines, batch_size=BATCH):
            done += result.appended + result.duplicates
            while marks and done >= marks[0][1]:
                percent = marks.pop(0)[0]
                elapsed = time.perf_counter() - start
                samples.append(StreamMark(percent, done, elapsed, *rss_kib()))
    finally:
        core.close()
    return samples


def stream_in_child(
    args: argparse.Namespace, tmp: Path, run_id: str, store: str
) -> list[StreamMark]:
    """``stream_store`` in this (fresh) process; drops its own schema."""
    bench = Bench(args, tmp, register(), run_id=run_id)
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


# --- report -----------------------------------------------------------------------


def print_results(
    results: Sequence[Result], notes: Sequence[str], args: argparse.Namespace
) -> None:
    """The plain table of measured paths."""
    policy = {
        "on-request": "appends exclude sealing; core.seal() rows time it after each run",
        "each-call": "every append_batch call seals (the library's default)",
    }[args.seal]
    print(f"\nmedian of {args.repeat} run(s) per path; --seal {args.seal}: {policy}")
    row = "{:<11} {:<32} {:>7} {:>9} {:>10}  {}"
    print(row.format("store", "path", "events", "events/s", "ledger/raw", "each run"))
    for r in results:
        runs = " ".join(f"{r.events / s:,.0f}" for s in r.seconds)
        print(row.format(r.store, r.path, r.events, f"{r.rate:,.0f}", r.ratio, runs))
    for note in notes:
        print(f"  {note}")


def print_stream(store: str, args: argparse.Namespace, samples: Sequence[StreamMark]) -> None:
    """Rate and memory at the start and at 10%, 50% and 100% of the stream."""
    print(f"\n{store}: append_stream of {args.stream_lines} generated lines, batch_size={BATCH},")
    print(
        f"  in a fresh process, --seal {args.seal} (one call: at most one seal, at its end);"
        " lines/s is the rate since the previous mark"
    )
    row = "  {:>5} {:>9} {:>8} {:>9} {:>8} {:>9}"
    print(row.format("at", "lines", "seconds", "lines/s", "RSS MiB", "peak MiB"))
    for before, s in zip([None, *samples], samples, strict=False):
        rate = ""
        if before is not None and s.lines > before.lines:
            rate = f"{(s.lines - before.lines) / (s.seconds - before.seconds):,.0f}"
        rss, peak = f"{s.rss_kib / 1024:.1f}", f"{s.peak_kib / 1024:.1f}"
        print(row.format(f"{s.percent}%", s.lines, f"{s.seconds:.1f}", rate, rss, peak))


def counts(text: str) -> list[int]:
    """Comma-separated positive counts (``10000,100000``), smallest first."""
    try:
        values = sorted({int(value) for value in text.split(",")})
    except ValueError:
        values = []
    if not values or values[0] < 1:
        msg = f"not comma-separated positive counts: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add = parser.add_argument
    add("--postgres-url", default=DEFAULT_PG_URL, help="a PostgreSQL database")
    add("--events", type=int, default=50_000, help="events per 1000-line run")
    add("--single-calls", type=int, default=2_000, help="one-line calls per run")
    add("--repeat", type=int, default=3, help="runs per path (the median is shown)")
    add("--stream-lines", type=int, default=0, help="lines to stream (0: skip)")
    add(
        "--seal",
        choices=tuple(SEAL_POLICIES),
        default="on-request",
        help="on-request: sealing timed apart (default); each-call: the library's default",
    )
    add("--only", choices=("sqlite", "postgres"), help="measure one store only")
    add("--profile", action="store_true", help="the append path under cProfile")
    add("--profile-events", type=int, default=20_000,
        help="events to profile in 1000-line calls (0: none)")  # fmt: skip
    add("--profile-calls", type=int, default=500, help="one-line calls to profile (0: none)")
    add(
        "--growth",
        type=counts,
        nargs="?",
        const=GROWTH_SIZES,
        metavar="SIZES",
        help="latency as one store grows through these stored-event counts (bench/growth.py)",
    )
    add("--growth-calls", type=int, default=1000, help="one-line calls per growth size")
    add("--growth-batches", type=int, default=5, help=f"{BATCH}-line calls per growth size")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure every requested store and print the tables."""
    args = parse_args(argv)
    stores = [s for s in ("sqlite", "postgresql") if s.startswith(args.only or "")]
    definition = register()
    print(f"register: {definition.path.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory(prefix="bench-append-") as tmp:
        bench = Bench(args, Path(tmp), definition)
        try:
            results: list[Result] = []
            notes: list[str] = []
            for store in stores:
                measured, store_notes = measure_store(bench, store)
                results += measured
                notes += store_notes
            print_results(results, notes, args)
            for store in stores if args.stream_lines else ():
                print_stream(store, args, stream_fresh(bench, store))
            for store in stores if args.profile else ():
                profile_store(bench, store)
            if args.growth:
                run_growth(bench, stores)
        finally:
            bench.drop_schemas()


if __name__ == "__main__":
    main()
