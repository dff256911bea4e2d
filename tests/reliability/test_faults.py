"""Faults of the store, reported honestly: one line, an exit code, and what committed.

The faults are real: triggers installed behind the ledger's back make the
database refuse inserts (a uniqueness violation on every attempt, so the
retries run out; a database error once some batches committed), and a TCP
proxy in front of PostgreSQL is cut mid-append (a lost server).
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from ledger.appending.application import Ledger
from ledger.cli import run_captured
from ledger.errors import StoreError, WriteConflict
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from tests import factories as f
from tests.cli.conftest import Append, append, master_key, ndjson, store
from tests.conftest import Exec, postgres_url_or_skip

__all__ = ["append", "master_key", "store"]  # the command line's fixtures, used here too

pytestmark = pytest.mark.reliability

LEDGER = [sys.executable, "-m", "ledger.cli"]


def _lines(count: int, *, start: int = 0) -> list[dict[str, Any]]:
    return [
        f.personal_data("C-1", {"name": f"N{i}"}, idempotency_key=f"k{i}")
        for i in range(start, start + count)
    ]


def _names(store_url: str) -> list[str]:
    code, out, err = run_captured(["trail", "C-1", "--store", store_url, "--json"])
    assert (code, err) == (0, "")
    return [e["type"] for e in orjson.loads(out)["events"]]


def _refuse_inserts(
    raw: tuple[Exec, str, str], store_url: str, *, when_rows_reach: int | None = None
) -> None:
    """A trigger on the events table: every insert is a uniqueness violation, or,
    once the table holds ``when_rows_reach`` rows, a database error."""
    run, table, _ = raw
    if table == "stored_events":  # SQLite
        if when_rows_reach is None:
            body = "SELECT RAISE(ABORT, 'UNIQUE constraint failed: stored_events.originator_id');"
            run(f"CREATE TRIGGER fault BEFORE INSERT ON {table} BEGIN {body} END", ())
        else:
            run(
                f"CREATE TRIGGER fault BEFORE INSERT ON {table}"
                f" WHEN (SELECT COUNT(*) FROM {table}) >= {when_rows_reach}"
                " BEGIN SELECT json('{'); END",  # a runtime error: malformed JSON
                (),
            )
        return
    qualified = f'"{parse_store_url(store_url).schema}".{table}'
    if when_rows_reach is None:
        check, error = "true", "unique_violation"
    else:
        check, error = f"(SELECT COUNT(*) FROM {qualified}) >= {when_rows_reach}", "disk_full"
    run(
        "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF {check} THEN RAISE EXCEPTION 'injected fault' USING ERRCODE = '{error}';"
        " END IF; RETURN NEW; END $$",
        (),
    )
    run(f"CREATE TRIGGER fault BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault()", ())


def _drop_fault(raw: tuple[Exec, str, str]) -> None:
    run, table, _ = raw
    run("DROP TRIGGER fault" + ("" if table == "stored_events" else f" ON {table}"), ())


def _events(raw: tuple[Exec, str, str]) -> int:
    run, table, _ = raw
    count: int = run(f"SELECT COUNT(*) FROM {table}", ())[0][0]
    return count


def test_a_conflict_that_outlasts_the_retries_is_the_ledgers_write_conflict(
    store: str, append: Append, raw: tuple[Exec, str, str], master_key: Path
) -> None:
    append(f.subject_registered("C-1"))
    before = _events(raw)
    _refuse_inserts(raw, store)
    code, out, err = run_captured(["append", "--store", store, "--json"], ndjson(*_lines(3)))
    assert (code, out) == (7, "")
    problem = orjson.loads(err)
    assert problem["rule"] == "write_conflict"
    assert problem["message"].startswith(
        "other writers changed the same subjects, references or idempotency keys 12 times"
    )
    assert problem["message"].endswith("nothing of it was written: retry it")

    ledger = Ledger(parse_store_url(store), MasterKeySource(master_key))
    with pytest.raises(WriteConflict):
        ledger.append_batch([orjson.dumps(x) for x in _lines(1)])
    ledger.close()
    assert _events(raw) == before

    _drop_fault(raw)  # the conflict is over: the same call goes in
    code, out, _ = run_captured(["append", "--store", store], ndjson(*_lines(3)))
    assert (code, orjson.loads(out)["appended"]) == (0, 3)


def test_a_batched_append_stopped_by_a_refused_batch_says_what_committed(
    store: str, append: Append
) -> None:
    append(f.subject_registered("C-1"))
    lines = _lines(50)
    lines[25]["data"]["category"] = "nosuch"  # batch 3 of 5 is refused
    code, out, err = run_captured(
        ["append", "--store", store, "--batch-size", "10"], ndjson(*lines)
    )
    assert code == 3
    summary = orjson.loads(out)
    assert (summary["appended"], summary["committed_lines"], summary["stopped_at_line"]) == (
        20,
        20,
        21,
    )
    assert orjson.loads(err.splitlines()[0])["line"] == 26
    assert _names(store).count("PersonalDataRecorded") == 20


def test_a_batched_append_stopped_by_a_database_error_says_what_committed(
    store: str, append: Append, raw: tuple[Exec, str, str], master_key: Path
) -> None:
    append(f.subject_registered("C-1"))
    _refuse_inserts(raw, store, when_rows_reach=_events(raw) + 20)  # batch 3 of 5 fails
    args = ["append", "--store", store, "--batch-size", "10"]
    code, out, err = run_captured(args, ndjson(*_lines(50)))
    assert code == 8
    summary = orjson.loads(out)
    assert (summary["appended"], summary["committed_lines"], summary["stopped_at_line"]) == (
        20,
        20,
        21,
    )
    assert err.startswith(f"ledger: the store {parse_store_url(store).redacted()} failed: ")
    assert err.count("\n") == 1
    assert _names(store).count("PersonalDataRecorded") == 20

    ledger = Ledger(parse_store_url(store), MasterKeySource(master_key))
    with pytest.raises(StoreError) as caught:
        for _ in ledger.append_stream(
            [orjson.dumps(x) for x in _lines(30, start=20)], batch_size=10
        ):
            pass
    assert caught.value.committed == 0  # nothing of this call: the table is at its limit
    ledger.close()

    _drop_fault(raw)  # a re-run with the same keys resumes: the first 20 are duplicates
    code, out, _ = run_captured(args, ndjson(*_lines(50)))
    assert (code, orjson.loads(out)["duplicates"], orjson.loads(out)["appended"]) == (0, 20, 30)


# --- a lost PostgreSQL server ---------------------------------------------------------


class _Proxy:
    """A TCP proxy to the PostgreSQL server that can be cut: the server is lost."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.target)
                self.sockets += [client, server]
                for a, b in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)

    def cut(self) -> None:
        self.listener.close()
        for s in self.sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    config = parse_store_url(postgres_url_or_skip())
    env = config.env
    p = _Proxy(env["POSTGRES_HOST"], int(env["POSTGRES_PORT"]))
    yield p
    p.cut()


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_server_lost_mid_append_is_one_line_with_what_committed(
    store: str, append: Append, raw: tuple[Exec, str, str], proxy: _Proxy
) -> None:
    append(f.subject_registered("C-1"))
    before = _events(raw)
    config = parse_store_url(store)
    through = store.replace(
        f"@{config.env['POSTGRES_HOST']}:{config.env['POSTGRES_PORT']}/",
        f"@127.0.0.1:{proxy.port}/",
    ).replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    assert through != store
    writer = subprocess.Popen(
        [*LEDGER, "append", "-", "--store", through, "--batch-size", "10"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdin is not None
    writer.stdin.write(ndjson(*_lines(20)))
    writer.stdin.flush()
    deadline = time.monotonic() + 30
    while _events(raw) < before + 20:
        assert time.monotonic() < deadline, "the first two batches never committed"
        time.sleep(0.05)
    proxy.cut()
    cut = time.monotonic()
    out, err = writer.communicate(ndjson(*_lines(30, start=20)), timeout=30)
    assert time.monotonic() - cut < 5  # no ten-second wait for a server that is gone
    assert writer.returncode == 8, err
    summary = orjson.loads(out)
    assert (summary["committed_lines"], summary["stopped_at_line"]) == (20, 21)
    lines = err.decode().splitlines()
    assert lines[0].startswith(
        f"ledger: lost the connection to {parse_store_url(through).redacted()}"
    )
    assert b"s3cret" not in out + err
    assert b"Traceback" not in err
    assert _events(raw) == before + 20


# --- a SQLite store locked by another writer -------------------------------------------


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_sqlite_writer_waits_for_the_lock_then_gives_up_cleanly(
    store: str, append: Append, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(f.subject_registered("C-1"))
    path = parse_store_url(store).sqlite_path
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    released = threading.Timer(0.5, holder.rollback)
    released.start()
    started = time.monotonic()
    code, out, err = run_captured(["append", "--store", store], ndjson(*_lines(2)))
    assert (code, err) == (0, "")  # it waited for the lock instead of failing at once
    assert time.monotonic() - started >= 0.4
    assert orjson.loads(out)["appended"] == 2
    released.join()

    monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", "1")
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, out, err = run_captured(
            ["append", "--store", store, "--json"], ndjson(*_lines(2, start=2))
        )
    finally:
        holder.rollback()
        holder.close()
    assert (code, out) == (7, "")
    problem = orjson.loads(err)
    assert problem["rule"] == "write_conflict"
    assert problem["message"].startswith(
        f"another writer held {store} locked for longer than 1 s (LEDGER_LOCK_TIMEOUT)"
    )
    assert _names(store).count("PersonalDataRecorded") == 2


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_a_postgresql_writer_waits_for_the_table_lock_then_gives_up_cleanly(
    store: str, append: Append, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(f.subject_registered("C-1"))
    config = parse_store_url(store)
    plain = store.split("?", maxsplit=1)[0]
    holder = psycopg.connect(plain)  # another session holds the events table (a long job)
    holder.execute(f'LOCK TABLE "{config.schema}".ledger_events IN EXCLUSIVE MODE')
    released = threading.Timer(0.5, holder.rollback)
    released.start()
    started = time.monotonic()
    code, out, err = run_captured(["append", "--store", store], ndjson(*_lines(2)))
    assert (code, err) == (0, "")  # it waited for the lock instead of failing at once
    assert time.monotonic() - started >= 0.4
    released.join()

    monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", "1")
    holder.execute(f'LOCK TABLE "{config.schema}".ledger_events IN EXCLUSIVE MODE')
    started = time.monotonic()
    try:
        code, out, err = run_captured(
            ["append", "--store", store, "--json"], ndjson(*_lines(2, start=2))
        )
    finally:
        holder.rollback()
        holder.close()
    assert time.monotonic() - started < 5  # not forever, not ten retries of the wait
    assert (code, out) == (7, "")
    problem = orjson.loads(err)
    assert problem["rule"] == "write_conflict"
    assert problem["message"].startswith(
        f"another session held a lock on {parse_store_url(store).redacted()} for longer"
        " than 1 s (LEDGER_LOCK_TIMEOUT)"
    )
    assert problem["message"].endswith("nothing of the failing call was written: retry it")
    assert _names(store).count("PersonalDataRecorded") == 2


def test_a_lock_timeout_that_is_not_a_number_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEDGER_LOCK_TIMEOUT", "soon")
    code, out, err = run_captured(["trail", "C-1", "--store", f"sqlite:///{tmp_path}/l.db"])
    assert (code, out) == (2, "")
    assert (
        err == "ledger: LEDGER_LOCK_TIMEOUT must be a whole number of seconds, at least 1: 'soon'\n"
    )
