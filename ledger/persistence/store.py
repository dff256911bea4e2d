"""The store URL: which backend, where, and where the master key file lives.

Also how the library talks to it: SQLite writers take the write lock when their
transaction begins (``BEGIN IMMEDIATE``) and wait for it up to the lock timeout,
and each SQLite connection keeps its prepared statements and commits with
``synchronous = FULL`` in WAL mode; PostgreSQL connections are checked before
use and fail fast when the server is gone. ``store_failure`` turns the library's
persistence errors into the ledger's own, in one line, with the URL's password
removed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

import psycopg
from eventsourcing.persistence import (
    ConnectionUnavailableError,
    InterfaceError,
    OperationalError,
)
from eventsourcing.postgres import ConnectionPool, PostgresFactory
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
    SQLiteTransaction,
)
from eventsourcing.utils import Environment, EnvType, get_topic
from psycopg import sql
from psycopg_pool import PoolTimeout

from ledger.errors import (
    ConfigurationError,
    LedgerError,
    StoreError,
    StoreUnavailable,
    WriteConflict,
)

DEFAULT_STORE_URL = "sqlite:///ledger.db"
STORE_ENV = "LEDGER_STORE"
LOCK_TIMEOUT_ENV = "LEDGER_LOCK_TIMEOUT"
"""Seconds a writer waits for another's lock before giving up (default 30): SQLite's write
lock, or on PostgreSQL any lock a statement waits for (``lock_timeout``)."""
CONNECT_TIMEOUT_ENV = "LEDGER_CONNECT_TIMEOUT"
"""Seconds to wait for a PostgreSQL connection (default 5)."""
DEFAULT_LOCK_TIMEOUT = 30
DEFAULT_CONNECT_TIMEOUT = 5
_SYSTEM_SCHEMAS = re.compile(r"(?i)^(pg_.*|information_schema)$")
_PASSWORD_IN_URL = re.compile(r"(?P<head>//[^/?#@:]*:)(?P<password>[^/?#]*)@")


def redact_url(url: str) -> str:
    """Any URL with its password (``user:password@``) replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***@", url)


def _seconds(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        msg = f"{name} must be a whole number of seconds, at least 1: {text!r}"
        raise ConfigurationError(msg)
    return int(text)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """A parsed ``--store`` URL and the library environment it selects."""

    url: str
    kind: Literal["sqlite", "postgresql"]
    env: dict[str, str] = field(default_factory=dict)
    sqlite_path: Path | None = None
    schema: str = "public"

    @property
    def default_key_dir(self) -> Path:
        """Where key files go by default: beside a SQLite file, else the current folder."""
        return self.sqlite_path.parent if self.sqlite_path is not None else Path()

    @property
    def key_file_stem(self) -> str:
        """A name for this store's key files."""
        if self.sqlite_path is not None:
            return self.sqlite_path.name
        return f"ledger-{self.env['POSTGRES_DBNAME']}-{self.schema}"

    def redacted(self) -> str:
        """The URL without a password, for messages."""
        return redact_url(self.url)

    def scrub(self, text: str) -> str:
        """A message with the URL redacted and any trace of the password removed."""
        text = text.replace(self.url, self.redacted())
        password = self.env.get("POSTGRES_PASSWORD", "")
        if password:
            for form in {password, quote(password, safe=""), quote(password)}:
                text = text.replace(form, "***")
        return " ".join(text.split())


def parse_store_url(url: str) -> StoreConfig:
    """Turn ``sqlite:///path`` or ``postgresql://user@host/db?schema=s`` into a config."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            msg = (
                "a SQLite store URL is sqlite:///relative/path.db or sqlite:////abs.db:"
                f" {redact_url(url)}"
            )
            raise ConfigurationError(msg)
        path = Path(unquote(parts.path[1:]))
        env = {
            "PERSISTENCE_MODULE": get_topic(LedgerSQLiteFactory),
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": str(_seconds(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT)),
        }
        return StoreConfig(url, "sqlite", env, sqlite_path=path)
    if parts.scheme in {"postgresql", "postgres"}:
        dbname = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not dbname:
            msg = (
                f"a PostgreSQL store URL is postgresql://user@host[:port]/dbname: {redact_url(url)}"
            )
            raise ConfigurationError(msg)
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"schema"})
        if unknown:
            msg = f"unknown PostgreSQL store URL parameter(s): {', '.join(unknown)}"
            raise ConfigurationError(msg)
        schema = query.get("schema", ["public"])[-1]
        if not schema.replace("_", "").isalnum():
            msg = f"schema must be letters, digits and underscores: {schema!r}"
            raise ConfigurationError(msg)
        if _SYSTEM_SCHEMAS.match(schema):
            msg = f"schema {schema!r} is PostgreSQL's own: choose another (e.g. ledger)"
            raise ConfigurationError(msg)
        try:
            port = parts.port or 5432
        except ValueError:
            msg = f"the port must be a number from 1 to 65535: {redact_url(url)}"
            raise ConfigurationError(msg) from None
        env = {
            "PERSISTENCE_MODULE": get_topic(LedgerPostgresFactory),
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "POSTGRES_CONNECT_TIMEOUT": str(_seconds(CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT)),
            "POSTGRES_LOCK_TIMEOUT": str(_seconds(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT)),
        }
        return StoreConfig(url, "postgresql", env, schema=schema)
    msg = f"unsupported store URL (use sqlite:/// or postgresql://): {redact_url(url)}"
    raise ConfigurationError(msg)


def ensure_postgres_schema(config: StoreConfig) -> None:
    """Create the store's PostgreSQL schema if it does not exist (``ledger init``)."""
    env = config.env
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(config.schema))
            )
    except psycopg.OperationalError as e:
        msg = f"cannot reach PostgreSQL at {config.redacted()}: {config.scrub(str(e))}"
        raise StoreUnavailable(msg) from None


def check_reachable(config: StoreConfig) -> None:
    """Fail fast, in one line, when the PostgreSQL server cannot be reached.

    The library's pool would retry in the background and give up only after its
    wait; one direct connection says at once why it cannot connect.
    """
    if config.kind != "postgresql":
        return
    env = config.env
    try:
        psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        ).close()
    except psycopg.Error as e:
        msg = f"cannot reach PostgreSQL at {config.redacted()}: {config.scrub(str(e))}"
        raise StoreUnavailable(msg) from None


# --- what the library is told ------------------------------------------------------

LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE when ``lock_timeout`` passed while waiting for a lock."""
_CONFLICT_STATES = {"40001", "40P01", LOCK_NOT_AVAILABLE}
"""PostgreSQL: serialization failure, deadlock, lock not available (lock_timeout)."""
_UNAVAILABLE_STATE_PREFIXES = ("08", "57P")
"""PostgreSQL: connection exceptions; admin or crash shutdown, cannot connect now."""


def _cause(error: BaseException) -> BaseException:
    """The driver's error behind the library's (the innermost cause)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def sqlstate(error: BaseException) -> str:
    """PostgreSQL's SQLSTATE of the driver's error behind a library error ("" if none)."""
    return getattr(_cause(error), "sqlstate", None) or ""


def store_failure(config: StoreConfig, error: BaseException) -> LedgerError:
    """The ledger's error for a failure of the store (a library or driver error).

    A lock held past the lock timeout or a conflict is a ``WriteConflict`` (retry);
    a lost or refused connection is ``StoreUnavailable``; anything else (a full or
    read-only disk, a database error) is a ``StoreError``. One line; no password.
    """
    cause = _cause(error)
    text = config.scrub(str(cause) or str(error) or type(cause).__name__)
    where = config.redacted()
    name = getattr(cause, "sqlite_errorname", "") or ""
    state = sqlstate(cause)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        timeout = config.env.get("SQLITE_LOCK_TIMEOUT")
        msg = (
            f"another writer held {where} locked for longer than {timeout} s"
            f" ({LOCK_TIMEOUT_ENV}): {text}; nothing of the failing call was written: retry it"
        )
        return WriteConflict(msg)
    if isinstance(cause, ConnectionUnavailableError):  # this process's writers queue
        msg = f"{where} is busy: {text}; nothing of the failing call was written: retry it"
        return WriteConflict(msg)
    if state == LOCK_NOT_AVAILABLE:
        timeout = config.env.get("POSTGRES_LOCK_TIMEOUT")
        msg = (
            f"another session held a lock on {where} for longer than {timeout} s"
            f" ({LOCK_TIMEOUT_ENV}): {text}; nothing of the failing call was written: retry it"
        )
        return WriteConflict(msg)
    if state in _CONFLICT_STATES:
        msg = f"{where}: {text}; nothing of the failing call was written: retry it"
        return WriteConflict(msg)
    lost = isinstance(cause, psycopg.InterfaceError) or (
        isinstance(cause, psycopg.OperationalError) and not state
    )
    if lost or state.startswith(_UNAVAILABLE_STATE_PREFIXES):
        return StoreUnavailable(f"lost the connection to {where}: {text}")
    return StoreError(f"the store {where} failed: {text}")


class _ImmediateTransaction(SQLiteTransaction):
    """A write transaction takes SQLite's write lock when it begins.

    With a plain (deferred) ``BEGIN`` a transaction that reads before it writes
    gets ``database is locked`` at once when another writer committed meanwhile
    (its snapshot is stale, so the busy timeout cannot help). Taking the lock at
    ``BEGIN IMMEDIATE`` waits for it instead, up to the lock timeout.
    """

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if self.commit else "BEGIN")
        except sqlite3.OperationalError as e:
            cursor.sqlite_cursor.close()
            raise OperationalError(e) from e
        return cursor


class _ImmediateConnection(SQLiteConnection):
    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with _ImmediateTransaction(self, commit=commit) as curs, curs:
            yield curs


SQLITE_STATEMENT_CACHE = 256
"""Prepared statements each SQLite connection keeps (``sqlite3``'s default is 128).

The library opens its connections with ``cached_statements=True``, which
``sqlite3`` reads as a cache of one statement: every statement but the last was
parsed and planned again at each use: a fifth to a quarter of a one-line append's
time (``bench/sqlite_commit.py``).
"""
SQLITE_SYNCHRONOUS = 2
"""``PRAGMA synchronous = FULL``: a commit returns once the write-ahead log is on disk.

It is the library's and this build's default, said here so that a build whose WAL
default is NORMAL (a commit may be lost at a power cut) cannot weaken it.
"""


class _ImmediatePool(SQLiteConnectionPool):
    """The library's pool, making connections as the library does but for two settings.

    The statement cache (``SQLITE_STATEMENT_CACHE``) and ``synchronous`` (FULL)
    differ; the rest (URI names, autocommit, the lock timeout as the busy
    timeout, WAL, ``sqlite3.Row``) is the library's ``_create_connection``.
    """

    def _create_connection(self) -> SQLiteConnection:
        try:
            raw = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: transactions begin explicitly
                cached_statements=SQLITE_STATEMENT_CACHE,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            if str(raw.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                raw.execute("PRAGMA journal_mode = WAL")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        raw.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
        raw.row_factory = sqlite3.Row
        return _ImmediateConnection(raw, max_age=self.max_age)


class LedgerSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory; write transactions begin immediately."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = _ImmediatePool(
            db_name=old.db_name,
            lock_timeout=old.lock_timeout,
            pool_size=old.pool_size,
            max_overflow=old.max_overflow,
            pool_timeout=float(old.lock_timeout or DEFAULT_LOCK_TIMEOUT),
            max_age=old.max_age,
            pre_ping=old.pre_ping,
        )
        old.close()


_SLICE = 0.1
"""Seconds between looks at whether the server refused us while waiting for a connection."""


class _FailFastPool(ConnectionPool[Any]):
    """The library's pool, but a refused connection fails the wait at once.

    The pool connects in the background and would let a caller wait its whole
    timeout while the server refuses every attempt (a stopped or lost server).
    Here the caller waits in short slices and gives up as soon as an attempt was
    refused; while the server stays refused, each request tries one direct
    connection first, so the pool recovers as soon as the server is back.
    """

    refused: Exception | None = None

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout=timeout)
        except Exception as e:
            self.refused = e
            raise
        self.refused = None
        return conn

    def getconn(self, timeout: float | None = None) -> Any:
        total = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + total
        if self.refused is not None:
            kwargs: Any = self.kwargs
            try:
                psycopg.connect(**kwargs).close()
            except psycopg.Error as e:
                raise psycopg.OperationalError(str(e).strip()) from None
            self.refused = None
        while True:
            try:
                return super().getconn(max(min(_SLICE, deadline - time.monotonic()), 0.001))
            except PoolTimeout:
                refused = self.refused
                if refused is not None:
                    raise psycopg.OperationalError(str(refused).strip()) from None
                if time.monotonic() >= deadline:
                    msg = f"couldn't get a connection after {total:.2f} sec"
                    raise PoolTimeout(msg) from None


class LedgerPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, with bounds on every wait.

    Connection attempts are bounded and refusals fail fast; no statement waits for
    a lock longer than ``LEDGER_LOCK_TIMEOUT`` (default 30 s). The bound is set on
    every connection (``lock_timeout``), so the running process's setting holds, not
    what the store had when its functions were made.
    """

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        kwargs: Any = pool.kwargs
        kwargs["connect_timeout"] = int(self.env.get("POSTGRES_CONNECT_TIMEOUT") or 5)
        lock_timeout = int(self.env.get("POSTGRES_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT)
        kwargs["options"] = f"-c lock_timeout={lock_timeout}s"
        pool.__class__ = _FailFastPool  # same pool, not yet open: only getconn differs
