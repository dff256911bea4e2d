"""Where a one-line SQLite commit's time goes: the ledger's beside the raw driver's.

Opens a fresh ledger and a raw table in the same temporary folder (as
``bench/append.py`` does), warms both up, then makes ``--calls`` one-line appends
and ``--calls`` raw one-row commits, in alternating blocks. In-process it times
each call and the ``COMMIT`` inside it (the WAL's fsync). With ``--strace`` it
runs itself under ``strace -f -y -T`` and counts, per commit and per file, the
writes, their bytes and the syncs, and the time the kernel spent in them, so the
two paths can be compared syscall by syscall. It also prints each WAL file's size
after each block: a commit that makes the log file grow costs about twice one that
overwrites it (the size change is journalled too), and ``bench/append.py`` warms
the raw table too little for its log to wrap; ``--settle`` loads the raw table
until it has.

    .venv/bin/python bench/sqlite_commit.py --calls 400 --settle
    .venv/bin/python bench/sqlite_commit.py --calls 400 --settle --strace
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.sqlite import SQLiteConnection

from bench.population import SEAL_ON_REQUEST, open_core, register
from bench.stores import (
    BATCH,
    Feed,
    SQLiteRaw,
    append_all,
    chunked,
    raw_rows,
    sqlite_synchronous,
    stored_state_bytes,
)
from ledger.bootstrap import Core

MARK = "/nonexistent-sqlite-commit-mark"
"""A path stat'ed between phases: strace shows it, so the trace can be cut by phase."""
BLOCKS = 8
"""Alternating blocks of each path (ledger, raw, ledger, raw, ...)."""
SYSCALLS = "pwrite64,pread64,write,fsync,fdatasync,ftruncate,fcntl,newfstatat,openat,unlink"
LINE = re.compile(
    r"^(?P<pid>\d+)\s+(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+).*<(?P<secs>[\d.]+)>$"
)
FD_PATH = re.compile(r"^\d+<(?P<path>[^>]*)>")


def mark(phase: str) -> None:
    """Leave a trace of a phase boundary (a failing stat of a named path)."""
    with suppress(FileNotFoundError):
        os.stat(f"{MARK}/{phase}")


@dataclass
class CommitClock:
    """Seconds spent in the library connection's ``commit`` (the ledger's COMMIT)."""

    seconds: list[float] = field(default_factory=list)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Time every ``SQLiteConnection.commit`` while the block runs."""
        original = SQLiteConnection.commit

        def commit(conn: SQLiteConnection) -> None:
            began = time.perf_counter()
            original(conn)
            self.seconds.append(time.perf_counter() - began)

        SQLiteConnection.commit = commit  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            SQLiteConnection.commit = original  # type: ignore[method-assign]


class TimedRaw(SQLiteRaw):
    """The benchmark's raw table, timing its COMMIT apart (same statements)."""

    commit_seconds: list[float]

    def single_timed(self, rows: list[tuple[object, ...]]) -> None:
        """``SQLiteRaw.single``, with the COMMIT timed."""
        for oid, version, topic, state in rows:
            self.conn.execute("BEGIN")
            self.conn.execute(self.insert, (oid.hex, version, topic, state))  # type: ignore[attr-defined]
            began = time.perf_counter()
            self.conn.execute("COMMIT")
            self.commit_seconds.append(time.perf_counter() - began)


def per_call(work: Callable[[], object], calls: int) -> tuple[float, float]:
    """Wall-clock and CPU microseconds per call of ``work`` doing ``calls`` calls.

    The CPU time leaves out the waits for the disk (the fsync of each commit),
    which swing tenfold here when other processes write.
    """
    began, cpu = time.perf_counter(), time.process_time()
    work()
    wall = time.perf_counter() - began
    return wall / calls * 1e6, (time.process_time() - cpu) / calls * 1e6


def settings(conn: sqlite3.Connection) -> dict[str, object]:
    """The PRAGMAs that decide a commit's cost on one connection."""
    names = ("journal_mode", "synchronous", "secure_delete", "page_size", "cache_size",
             "wal_autocheckpoint", "journal_size_limit", "locking_mode", "mmap_size",
             "temp_store")  # fmt: skip
    return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}


def wal_kib(db: Path) -> int:
    """Size of a database's write-ahead log file in KiB (0 if there is none)."""
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size // 1024 if wal.exists() else 0


@dataclass
class Timings:
    """Per block: wall and CPU time per call, and the WAL's size after the block."""

    calls: list[tuple[float, float]] = field(default_factory=list)
    wal: list[int] = field(default_factory=list)

    def show(self, name: str) -> None:
        """Median wall and CPU time per call, wall time and WAL size by block."""
        wall = statistics.median(w for w, _ in self.calls)
        cpu = statistics.median(c for _, c in self.calls)
        blocks = [round(w) for w, _ in self.calls]
        print(f"{name:20} us: wall median {wall:5.0f}  cpu median {cpu:5.0f}"
              f"  wall by block {blocks}  WAL KiB after each {self.wal}")  # fmt: skip


def show_commits(name: str, seconds: list[float]) -> None:
    """Percentiles of the time spent in COMMIT."""
    us = sorted(s * 1e6 for s in seconds)
    print(f"{name:20} us: p50 {us[len(us) // 2]:5.0f}  p90 {us[len(us) * 9 // 10]:5.0f}"
          f"  max {us[-1]:6.0f}  mean {statistics.mean(us):5.0f}")  # fmt: skip


def warm_up(args: argparse.Namespace, core: Core, feed: Feed, raw: TimedRaw) -> int:
    """Load both stores as ``bench/append.py`` does; the raw rows' payload in bytes.

    With ``--settle`` the raw table is loaded further, until its log has passed
    the auto-checkpoint and begun again from its start, as the ledger's has after
    its preload: both then commit into a log file that no longer grows.
    """
    append_all(core, [[line] for line in feed.take(40)])
    append_all(core, chunked(feed.take(args.preload), BATCH))
    core.seal()
    payload = stored_state_bytes(core)
    raw.single(raw_rows(40, payload))
    raw.batched(raw_rows(args.raw_preload, payload))
    if args.settle:
        raw.batched(raw_rows(5 * BATCH, payload))
    with core.ledger.recorder.datastore.get_connection(commit=False) as conn:  # type: ignore[attr-defined]
        print("ledger connection:", settings(conn._sqlite_conn))
    print("raw connection:   ", settings(raw.conn))
    return payload


def run(args: argparse.Namespace) -> None:
    """Warm up, then alternate blocks of ledger one-line appends and raw one-row commits."""
    tmp = Path(tempfile.mkdtemp(prefix="sqlite-commit-", dir=args.dir))
    try:
        definition = register()
        keys = tmp / "keys"
        keys.mkdir()
        core = open_core(f"sqlite:///{tmp / 'ledger.db'}", keys, definition,
                         seal_every=SEAL_ON_REQUEST)  # fmt: skip
        feed = Feed(core, definition, seed=1)
        raw = TimedRaw(tmp / "raw.db", sqlite_synchronous(core))
        payload = warm_up(args, core, feed, raw)
        clock = CommitClock()
        raw.commit_seconds = []
        size = args.calls // BLOCKS
        ledger, bare = Timings(), Timings()
        with clock.installed():
            for block in range(BLOCKS):
                lines = [[line] for line in feed.take(size)]
                mark(f"ledger-{block}-begin")
                ledger.calls.append(per_call(partial(append_all, core, lines), size))
                mark(f"ledger-{block}-end")
                ledger.wal.append(wal_kib(tmp / "ledger.db"))
                rows = raw_rows(size, payload)
                mark(f"raw-{block}-begin")
                bare.calls.append(per_call(partial(raw.single_timed, rows), size))  # type: ignore[arg-type]
                mark(f"raw-{block}-end")
                bare.wal.append(wal_kib(tmp / "raw.db"))
        print(f"{size} calls per block, {BLOCKS} blocks alternating; stored state {payload} B")
        ledger.show("ledger one-line call")
        bare.show("raw one-row commit")
        show_commits("ledger COMMIT", clock.seconds[-args.calls :])
        show_commits("raw COMMIT", raw.commit_seconds)
        raw.close()
        core.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Tally:
    """Syscalls of one phase, by (call, file kind)."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    bytes: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))


def kind(path: str) -> str:
    """Which file a descriptor is: db, wal, shm of the ledger or the raw table."""
    name = Path(path).name
    for suffix in ("-wal", "-shm", "-journal"):
        if name.endswith(suffix):
            return f"{name.removesuffix(suffix)}{suffix}"
    return name or path


def parse(trace: Path) -> dict[str, Tally]:
    """Syscalls between the marks, summed by path kind (ledger or raw)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    phase: str | None = None
    for text in trace.read_text().splitlines():
        if MARK in text:
            where = text.split(MARK + "/", 1)[1].split('"', 1)[0]
            name, _, edge = where.rpartition("-")
            phase = name.split("-")[0] if edge == "begin" else None
            continue
        match = LINE.match(text)
        if phase is None or match is None:
            continue
        fd = FD_PATH.match(match["args"])
        where = kind(fd["path"]) if fd else "-"
        key = (match["call"], where)
        tally = tallies[phase]
        tally.calls[key] += 1
        tally.seconds[key] += float(match["secs"])
        if match["call"] in {"pwrite64", "write", "pread64"} and int(match["ret"]) > 0:
            tally.bytes[key] += int(match["ret"])
    return tallies


def report(tallies: dict[str, Tally], calls: int) -> None:
    """Per commit: count, bytes and kernel time of each syscall on each file."""
    for phase in ("ledger", "raw"):
        tally = tallies[phase]
        print(f"\n{phase}: per commit ({calls} commits), syscall on file: count, bytes, us")
        for key, n in sorted(tally.calls.items(), key=lambda kv: -tally.seconds[kv[0]]):
            if key[0] in {"newfstatat", "openat"} and tally.seconds[key] / calls < 1:
                continue
            written = tally.bytes[key] / calls
            spent = tally.seconds[key] / calls * 1e6
            print(f"  {key[0]:10} {key[1]:18} {n / calls:7.2f} {written:9.0f} B {spent:8.1f} us")


def main(argv: list[str] | None = None) -> None:
    """Run the probe, or run it under strace and summarise the trace."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="one-line calls per path")
    parser.add_argument("--preload", type=int, default=3 * BATCH, help="lines loaded first")
    parser.add_argument(
        "--raw-preload",
        type=int,
        default=BATCH,
        help="raw rows loaded first (bench/append.py: %(default)s)",
    )
    parser.add_argument(
        "--settle",
        action="store_true",
        help="load the raw table until its log has wrapped, as the ledger's has",
    )
    parser.add_argument("--dir", default=None, help="folder for the two files (default: TMPDIR)")
    parser.add_argument("--strace", action="store_true", help="count syscalls under strace")
    args = parser.parse_args(argv)
    if not args.strace:
        run(args)
        return
    with tempfile.TemporaryDirectory(prefix="sqlite-commit-trace-") as folder:
        trace = Path(folder) / "trace"
        command = [sys.executable, __file__, "--calls", str(args.calls), "--preload",
                   str(args.preload), "--raw-preload", str(args.raw_preload)]  # fmt: skip
        if args.settle:
            command.append("--settle")
        if args.dir:
            command += ["--dir", args.dir]
        strace = shutil.which("strace")
        if strace is None:
            msg = "strace is not installed"
            raise SystemExit(msg)
        traced = [strace, "-f", "-y", "-T", "-e", f"trace={SYSCALLS}", "-o", str(trace)]
        subprocess.run([*traced, *command], check=True)  # noqa: S603 (this interpreter, this file)
        report(parse(trace), args.calls)


if __name__ == "__main__":
    main()
