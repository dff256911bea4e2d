"""Real processes for the crash suite: the ``ledger`` command, stores read behind its back.

``Store`` runs ``.venv/bin/ledger`` against one store (its own key files, a clean
environment); ``Peek`` reads that store through a connection of its own (and
reconnects after a server restart); ``kill_when`` sends SIGKILL the moment a
condition on the store holds; ``throwaway_cluster`` is a PostgreSQL cluster made
for one test and dropped afterwards (the shared server is never stopped);
``small_disk`` is a tmpfs of a few megabytes, unmounted afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import orjson
import psycopg
import pytest

from ledger.appending.definition_file import load_definition
from ledger.bootstrap import initialise
from ledger.demo.population import generate_population
from ledger.persistence.store import parse_store_url

ROOT = Path(__file__).resolve().parents[2]
REGISTER = ROOT / "examples" / "register.toml"
_BESIDE = Path(sys.executable).with_name("ledger")
LEDGER = _BESIDE if _BESIDE.exists() else ROOT / ".venv" / "bin" / "ledger"
"""The installed command, beside the interpreter running the tests (``.venv/bin``)."""

POPULATION_START = datetime(2021, 6, 3, tzinfo=UTC)
POPULATION_END = datetime(2026, 1, 1, tzinfo=UTC)


def write_population(path: Path, subjects: int, *, seed: int) -> int:
    """The demo population of ``subjects`` customers as NDJSON; returns the line count.

    Every line has an idempotency key; the same arguments give the same file.
    """
    definition = load_definition(REGISTER).definition
    count = 0
    with path.open("wb") as out:
        for line in generate_population(
            definition, subjects, seed=seed, start=POPULATION_START, end=POPULATION_END
        ):
            out.write(orjson.dumps(line) + b"\n")
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class Finished:
    """A command that ran to its end."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return orjson.loads(self.out)


class Running:
    """A ``ledger`` process started in the background, its output going to files."""

    def __init__(self, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.stdout_path = logs.with_suffix(".out")
        self.stderr_path = logs.with_suffix(".err")
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _started.append(self)

    def wait(self, timeout: float = 120.0) -> Finished:
        code = self.process.wait(timeout)
        return Finished(
            code,
            self.stdout_path.read_text(encoding="utf-8"),
            self.stderr_path.read_text(encoding="utf-8"),
        )

    def kill(self) -> None:
        """SIGKILL, then reap."""
        with suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


_started: list[Running] = []


def kill_leftovers() -> None:
    """SIGKILL every process started here that is still running (a test failed)."""
    while _started:
        running = _started.pop()
        if running.process.poll() is None:
            running.kill()


class Store:
    """One store and its key files, driven through the ``ledger`` command."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key_file = folder / "ledger.master.key"
        self.public_key = folder / "verifier-key.txt"
        self._runs = 0

    def env(self) -> dict[str, str]:
        """This process's environment without any ledger setting, plus this store's key."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env["LEDGER_MASTER_KEY_FILE"] = str(self.key_file)
        return env

    def argv(self, *args: str) -> list[str]:
        return [str(LEDGER), *args, "--store", self.url]

    def start(self, *args: str) -> Running:
        self._runs += 1
        logs = self.folder / f"run{self._runs}-{args[0]}"
        return Running(self.argv(*args), self.env(), logs)

    def run(self, *args: str, timeout: float = 120.0) -> Finished:
        return self.start(*args).wait(timeout)

    def ok(self, *args: str) -> Any:
        """Run a command that must succeed silently on stderr; its JSON answer."""
        done = self.run(*args)
        assert (done.code, done.err) == (0, ""), (args, done)
        return done.json()

    def init(self) -> None:
        """``ledger init`` with the example register; the verifier key kept in a file."""
        answer = self.ok("init", "--register", str(REGISTER))
        self.public_key.write_text(answer["verifier_key"] + "\n", encoding="utf-8")

    def load(self, file: Path, *, batch_size: int) -> None:
        """What ``init`` then ``append --batch-size`` do, in this process (setup, not test)."""
        core = initialise(self.url, load_definition(REGISTER), key_file=self.key_file)
        try:
            self.public_key.write_text(core.ledger.verifier_key() + "\n", encoding="utf-8")
            with file.open("rb") as lines:
                for _ in core.ledger.append_stream(lines, batch_size=batch_size):
                    pass
        finally:
            core.close()

    def verify(self) -> Finished:
        """``ledger verify`` against the verifier key kept at init (not the store's copy)."""
        return self.run("verify", "--public-key", str(self.public_key))


class StoreDown(Exception):
    """The peeking connection could not reach the store (e.g. during a restart)."""


class Peek:
    """Reads a store behind the ledger's back through its own connection."""

    def __init__(self, url: str) -> None:
        self.config = parse_store_url(url)
        self.postgres = self.config.sqlite_path is None
        self.events_table = "ledger_events" if self.postgres else "stored_events"
        self.tracking_table = "ledger_tracking" if self.postgres else "tracking"
        self._sqlite: sqlite3.Connection | None = None
        self._pg: psycopg.Connection[Any] | None = None

    def connect_postgres(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        env = self.config.env
        conn = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None, autocommit=autocommit, connect_timeout=5,
        )  # fmt: skip
        conn.execute(f'SET search_path TO "{self.config.schema}"')
        return conn

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one query (``%s`` placeholders); raises StoreDown when unreachable."""
        if self.postgres:
            return self._postgres(sql, params, fetch=True)
        if self._sqlite is None:
            assert self.config.sqlite_path is not None
            self._sqlite = sqlite3.connect(
                self.config.sqlite_path, timeout=30, isolation_level=None
            )
        return self._sqlite.execute(sql.replace("%s", "?"), params).fetchall()

    def execute(self, sql: str) -> None:
        """Run one statement that returns nothing."""
        if self.postgres:
            self._postgres(sql, (), fetch=False)
        else:
            self.rows(sql)

    def _postgres(self, sql: str, params: tuple[Any, ...], *, fetch: bool) -> list[tuple[Any, ...]]:
        for attempt in (1, 2):  # a connection from before a restart fails once
            try:
                if self._pg is None or self._pg.closed:
                    self._pg = self.connect_postgres()
                cursor = self._pg.execute(sql, params)
                return cursor.fetchall() if fetch else []
            except psycopg.OperationalError as e:
                if self._pg is not None:
                    self._pg.close()
                self._pg = None
                if attempt == 2:
                    raise StoreDown(str(e)) from e
        raise AssertionError  # not reached

    def events(self) -> int:
        """How many events are stored."""
        return int(self.rows(f"SELECT COUNT(*) FROM {self.events_table}")[0][0])

    def head(self) -> int:
        """The last position."""
        return int(self.rows(f"SELECT COALESCE(MAX({self._id}), 0) FROM {self.events_table}")[0][0])

    @property
    def _id(self) -> str:
        return "notification_id" if self.postgres else "rowid"

    def positions(self) -> dict[str, int]:
        """The tracked position of every projection (the sealer's ``merkle`` included)."""
        rows = self.rows(f"SELECT application_name, notification_id FROM {self.tracking_table}")
        return {name: int(position) for name, position in rows if name != "__migration__"}

    def checkpoint(self) -> int:
        """The size of the newest signed checkpoint (0 if none)."""
        return int(self.rows("SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints")[0][0])

    def tally(self) -> tuple[Counter[str], Counter[str]]:
        """Stored events by type, and by idempotency-key digest (events without one left out)."""
        by_type: Counter[str] = Counter()
        by_key: Counter[str] = Counter()
        for topic, state in self.rows(f"SELECT topic, state FROM {self.events_table}"):
            by_type[topic] += 1
            digest = orjson.loads(bytes(state)).get("idempotency")
            if digest is not None:
                by_key[digest] += 1
        return by_type, by_key

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT COUNT(*) FROM {table}")[0][0])

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            self._pg.close()


def kill_when(
    running: Running, ready: Callable[[], bool], *, what: str, timeout: float = 60.0
) -> None:
    """SIGKILL ``running`` as soon as ``ready()`` holds; fail if it ended first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            hit = ready()
        except StoreDown:
            hit = False
        if hit:
            running.kill()
            break
        if running.process.poll() is not None:
            break
        if time.monotonic() > deadline:
            running.kill()
            pytest.fail(f"not {what} within {timeout} s")
        time.sleep(0.001)
    if running.process.returncode != -signal.SIGKILL:
        done = running.wait()
        pytest.fail(
            f"the process ended (exit {done.code}) before it could be killed {what}: {done}"
        )


def wait_until(ready: Callable[[], bool], *, what: str, timeout: float = 60.0) -> None:
    """Poll until ``ready()`` holds (StoreDown counts as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(StoreDown):
            if ready():
                return
        time.sleep(0.005)
    pytest.fail(f"not {what} within {timeout} s")


def is_clean_failure(done: Finished) -> bool:
    """Nonzero exit (not a signal), one line on stderr, no traceback."""
    lines = done.err.strip().splitlines()
    return done.code > 0 and len(lines) == 1 and "Traceback" not in done.err


# --- a throwaway PostgreSQL cluster -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cluster:
    """A PostgreSQL cluster of our own (``pg_createcluster``), trusted on 127.0.0.1.

    It allows prepared transactions: a lock held by one outlives a restart.
    """

    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, action: str, *options: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", self.version, self.name, action, *options],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def restart(self) -> None:
        """Restart in fast mode: every session is ended, the server is back at return."""
        self.ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self.ctl("stop", "-m", "fast")

    def start(self) -> None:
        self.ctl("start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _newest_postgres() -> str | None:
    installed = Path("/usr/lib/postgresql")
    versions = [p.name for p in installed.glob("*") if (p / "bin" / "initdb").exists()]
    return max(
        versions, key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()), default=None
    )


def _cannot(reason: str) -> NoReturn:
    """Skip, or fail when PostgreSQL is required (CI), as tests/conftest.py does."""
    if os.environ.get("LEDGER_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"LEDGER_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A fresh cluster on a free port, dropped (stopped first) afterwards, even on failure."""
    if shutil.which("pg_createcluster") is None or shutil.which("pg_ctlcluster") is None:
        _cannot("needs Debian's pg_createcluster / pg_ctlcluster (postgresql-common)")
    if os.geteuid() != 0:
        _cannot("making a throwaway PostgreSQL cluster needs root")
    version = _newest_postgres()
    if version is None:
        _cannot("no PostgreSQL server binaries under /usr/lib/postgresql")
    cluster = Cluster(version, f"ledgercrash_{os.getpid()}_{secrets.token_hex(3)}", _free_port())
    subprocess.run(
        ["pg_createcluster", version, cluster.name, "--port", str(cluster.port),
         "--start-conf", "manual", "--pgoption", "max_prepared_transactions=4",
         "--", "--auth-local=trust", "--auth-host=trust"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", version, cluster.name],
            check=False, capture_output=True, timeout=120,
        )  # fmt: skip


# --- a small disk ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmallDisk:
    """A tmpfs of a few megabytes mounted for one test."""

    path: Path

    def grow(self, megabytes: int) -> None:
        """Make room: remount with a larger size (the files stay)."""
        subprocess.run(
            ["mount", "-o", f"remount,size={megabytes}m", str(self.path)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip


@contextmanager
def small_disk(path: Path, *, megabytes: int) -> Iterator[SmallDisk]:
    """A tmpfs of ``megabytes`` at ``path``, unmounted afterwards even on failure."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(path)],
        check=False, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True, timeout=30)
