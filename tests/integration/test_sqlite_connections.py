"""How the ledger's SQLite connections are set: durable commits, statements kept prepared."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.sqlite import SQLiteDatastore

from ledger.bootstrap import Core, initialise
from ledger.persistence.store import LedgerSQLiteFactory, parse_store_url
from tests import factories as f


@pytest.fixture
def datastore(tmp_path: Path) -> Iterator[SQLiteDatastore]:
    """The library's datastore as the ledger's SQLite factory builds it."""
    store = parse_store_url(f"sqlite:///{tmp_path / 'ledger.db'}")
    made = LedgerSQLiteFactory(store.env).datastore
    yield made
    made.close()


@pytest.fixture
def sqlite_core(tmp_path: Path, register, key_source, clock) -> Iterator[Core]:
    instance = initialise(
        f"sqlite:///{tmp_path / 'ledger.db'}", register, key_file=key_source.path, clock=clock
    )
    yield instance
    instance.close()


def statement_runs(datastore: SQLiteDatastore) -> dict[str, int]:
    """Each statement still prepared on a connection, with the times it ran."""
    with datastore.transaction(commit=False) as c:
        try:
            c.execute("SELECT sql, run FROM sqlite_stmt")
        except sqlite3.OperationalError:
            pytest.skip("this SQLite was built without the sqlite_stmt table")
        return {str(sql): int(run) for sql, run in c.fetchall()}


def test_sqlite_commits_wait_for_the_write_ahead_log_on_disk(
    datastore: SQLiteDatastore,
) -> None:
    with datastore.transaction(commit=True) as c:
        c.execute("PRAGMA journal_mode")
        mode = c.fetchone()[0]
        c.execute("PRAGMA synchronous")
        synchronous = c.fetchone()[0]
    assert (mode, synchronous) == ("wal", 2)  # FULL


def test_a_sqlite_connection_keeps_its_statements_prepared_between_transactions(
    datastore: SQLiteDatastore,
) -> None:
    with datastore.transaction(commit=True) as c:
        c.execute("CREATE TABLE t (x INTEGER)")
    for i in range(3):
        with datastore.transaction(commit=True) as c:
            c.execute("INSERT INTO t VALUES (?)", (i,))
            c.execute("SELECT count(*) FROM t")
    runs = statement_runs(datastore)
    assert runs.get("INSERT INTO t VALUES (?)") == 3
    assert runs.get("BEGIN IMMEDIATE", 0) >= 3


def test_one_line_appends_on_sqlite_reuse_one_prepared_event_insert(sqlite_core: Core) -> None:
    ledger = sqlite_core.ledger
    f.append(ledger, f.subject_registered("C-1"))
    for i in range(3):
        f.append(ledger, f.personal_data("C-1", {"name": f"N{i}"}, idempotency_key=f"k{i}"))
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    runs = statement_runs(datastore)
    inserts = {sql: n for sql, n in runs.items() if sql.startswith("INSERT INTO stored_events")}
    assert len(inserts) == 1  # one statement, prepared once and run again
    assert next(iter(inserts.values())) >= 3
