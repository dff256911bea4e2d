"""Crashes of real processes: kill -9 of an appender and of a projection runner,
PostgreSQL restarting under an appender, a disk filling up under one. Afterwards nothing
is lost or doubled, the log verifies against the key kept at init, the views equal a
fresh rebuild, and a failure was one line with a nonzero exit, never a traceback.

Every process here is ``.venv/bin/ledger`` itself, killed with SIGKILL at points read
off the store through a connection of the test's own. The PostgreSQL restarts happen
on a throwaway cluster made for the test (``crash_support.throwaway_cluster``), never
on the shared server; the full disk is a small tmpfs (``crash_support.small_disk``).
The expectation is one uninterrupted append of the same file on a fresh store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from projections import PROJECTIONS
from tests.reliability.crash_support import (
    Finished,
    Peek,
    Running,
    Store,
    is_clean_failure,
    kill_leftovers,
    kill_when,
    small_disk,
    throwaway_cluster,
    wait_until,
    write_population,
)

pytestmark = pytest.mark.reliability


@pytest.fixture(autouse=True)
def _no_process_left() -> Iterator[None]:
    """A failing test leaves no ``ledger`` process behind (only those it started)."""
    yield
    kill_leftovers()


SUBJECTS = 400
"""The demo population of this many customers: 4,252 lines, each with an idempotency key."""
BATCH = 1000
FINDING = "FindingRecorded"
NOTICE = "NoticePublished"


@dataclass(frozen=True, slots=True)
class Expected:
    """What one uninterrupted ``ledger append`` of the file stores on a fresh store."""

    file: Path
    lines: int
    events: int
    by_type: Counter[str]


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Expected:
    folder = tmp_path_factory.mktemp("reference")
    file = folder / "population.ndjson"
    lines = write_population(file, SUBJECTS, seed=11)
    reference = Store(f"sqlite:///{folder / 'reference.db'}", folder)
    reference.load(file, batch_size=BATCH)
    peek = Peek(reference.url)
    by_type, by_key = peek.tally()
    events = peek.events()
    peek.close()
    assert len(by_key) == lines
    return Expected(file, lines, events, by_type)


def appended_lines(peek: Peek) -> int:
    """Stored events that came from input lines (not the notice, not findings)."""
    rows = peek.rows(
        f"SELECT COUNT(*) FROM {peek.events_table} WHERE topic NOT IN (%s, %s)", (FINDING, NOTICE)
    )
    return int(rows[0][0])


@contextmanager
def sealer_held(peek: Peek) -> Iterator[None]:
    """PostgreSQL: lock the Merkle state so a sealer blocks on it (appends never touch it)."""
    locker = peek.connect_postgres(autocommit=False)
    try:
        locker.execute("LOCK TABLE ledger_merkle_state IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        locker.rollback()
        locker.close()


def sealer_waiting(peek: Peek) -> bool:
    rows = peek.rows(
        "SELECT COUNT(*) FROM pg_locks WHERE relation = 'ledger_merkle_state'::regclass"
        " AND NOT granted"
    )
    return int(rows[0][0]) > 0


def assert_every_line_stored_once(peek: Peek, expected: Expected) -> None:
    by_type, by_key = peek.tally()
    assert peek.events() == expected.events
    assert by_type == expected.by_type
    assert len(by_key) == expected.lines
    assert set(by_key.values()) == {1}, "an idempotency key stored more than once"


def assert_verifies_after_a_final_seal(store: Store, events: int) -> None:
    store.ok("seal")
    after = store.verify()
    answer = after.json()
    assert (after.code, answer["ok"], answer["events"], answer["problems"]) == (0, True, events, [])
    assert answer["verifier_key_from"] == "file"


def assert_views_rebuild_the_same(store: Store) -> None:
    done = store.run("replay", "--compare")
    answer = done.json()
    assert (done.code, answer["identical"], answer["differences"]) == (0, True, []), done


def test_an_appender_killed_three_times_mid_run_then_rerun_stores_every_line_once(
    store_url: str, tmp_path: Path, expected: Expected
) -> None:
    store = Store(store_url, tmp_path / "store")
    store.init()
    peek = Peek(store_url)
    append = ("append", "--batch-size", str(BATCH), str(expected.file))

    # 1: after the first batch committed, while the second is being appended
    kill_when(store.start(*append), lambda: appended_lines(peek) >= BATCH, what="after a batch")
    first = appended_lines(peek)
    # 2: a re-run skips the committed lines as duplicates, commits two more batches
    kill_when(
        store.start(*append),
        lambda: appended_lines(peek) >= first + 2 * BATCH,
        what="after two more batches",
    )
    second = appended_lines(peek)
    assert BATCH <= first < second < expected.lines
    assert first % BATCH == second % BATCH == 0, "a batch is stored whole or not at all"
    assert peek.checkpoint() == 1, "killed runs never reached their seal"

    # 3: every line is stored and the appender is sealing them
    if peek.postgres:  # deterministic: the sealer waits on a lock held here
        with sealer_held(peek):
            kill_when(
                store.start(*append),
                lambda: peek.events() == expected.events and sealer_waiting(peek),
                what="while sealing",
            )
    else:  # SQLite has no table lock: kill the moment the last batch is seen committed
        kill_when(
            store.start(*append), lambda: peek.events() == expected.events, what="while sealing"
        )
    assert peek.checkpoint() < expected.events, "the seal was not cut short"

    cut = store.verify()  # before any repair: checked last, after the data

    # 4: the re-run finds every line stored
    done = store.run(*append)
    assert (done.code, done.err) == (0, ""), done
    answer = done.json()
    assert (answer["appended"], answer["duplicates"]) == (0, expected.lines)

    assert_every_line_stored_once(peek, expected)
    assert_verifies_after_a_final_seal(store, expected.events)
    assert_views_rebuild_the_same(store)
    peek.close()

    # a cut seal leaves events unsealed (exit 5, said so), never a tree that looks tampered
    assert cut.code == 5, cut
    assert {p["rule"] for p in cut.json()["problems"]} == {"unsealed_events"}, cut.out


def projection_positions(peek: Peek) -> dict[str, int]:
    positions = peek.positions()
    return {p.name: positions.get(p.name, 0) for p in PROJECTIONS}


def test_a_projection_runner_killed_twice_mid_run_resumes_to_the_views_of_a_fresh_rebuild(
    store_url: str, tmp_path: Path, expected: Expected
) -> None:
    store = Store(store_url, tmp_path / "store")
    store.load(expected.file, batch_size=BATCH)
    peek = Peek(store_url)
    head = peek.head()

    kill_when(
        store.start("project"),
        lambda: max(projection_positions(peek).values()) > 0,
        what="after its first view transaction",
    )
    first = projection_positions(peek)
    kill_when(
        store.start("project"),
        lambda: sum(projection_positions(peek).values()) > sum(first.values()),
        what="after resuming",
    )
    second = projection_positions(peek)
    for stopped in (first, second):
        assert max(stopped.values()) > 0, stopped  # some view moved on
        assert min(stopped.values()) < head, stopped  # and some did not finish

    answer = store.ok("project")
    assert answer["applied"] == head - min(second.values()), "it resumed where it stopped"
    assert answer["positions"] == {p.name: head for p in PROJECTIONS}
    assert peek.count("v_trail") == peek.events() - 1  # every subject event once
    assert_views_rebuild_the_same(store)
    peek.close()


@contextmanager
def inserts_held(peek: Peek) -> Iterator[None]:
    """PostgreSQL: make every insert into the log wait (reads go on), through restarts.

    The lock is held by a prepared transaction, which keeps its locks when the server
    restarts, so an appender that reconnects waits again at its next insert.
    """
    peek.execute("BEGIN")
    peek.execute("LOCK TABLE ledger_events IN SHARE MODE")
    peek.execute("PREPARE TRANSACTION 'crash_suite_hold'")
    try:
        yield
    finally:
        peek.execute("ROLLBACK PREPARED 'crash_suite_hold'")


def insert_waiting(peek: Peek) -> bool:
    rows = peek.rows(
        "SELECT COUNT(*) FROM pg_locks WHERE relation = 'ledger_events'::regclass AND NOT granted"
    )
    return int(rows[0][0]) > 0


def blocked(peek: Peek, run: Running) -> bool:
    """Wait until ``run`` waits to insert (True) or has ended (False)."""
    wait_until(
        lambda: run.process.poll() is not None or insert_waiting(peek),
        what="the appender waiting to insert or ending",
    )
    return run.process.poll() is None


@pytest.mark.postgres
def test_an_appender_through_postgresql_restarts_fails_cleanly_and_a_rerun_loses_nothing(
    tmp_path: Path, expected: Expected
) -> None:
    batch = 200
    append = ("append", "--batch-size", str(batch), str(expected.file))
    with throwaway_cluster() as cluster:
        store = Store(f"{cluster.url}?schema=crash", tmp_path / "store")
        store.init()
        peek = Peek(store.url)
        ended: list[Finished] = []

        run = store.start(*append)
        wait_until(lambda: appended_lines(peek) >= 2 * batch, what="two batches stored")
        with inserts_held(peek):  # the appender stops inside its next batch's transaction
            assert blocked(peek, run), run.wait()
            cluster.restart()  # 1: every session ends; the server is back when this returns
            if not blocked(peek, run):  # it gave up at the restart: run it again
                ended.append(run.wait())
                run = store.start(*append)
                assert blocked(peek, run), run.wait()
            cluster.stop()  # 2: the server stays down until the appender gives up
            try:
                ended.append(run.wait(timeout=60))
            finally:
                cluster.start()
        assert 2 * batch <= appended_lines(peek) < expected.lines

        done = store.run(*append)
        assert (done.code, done.err) == (0, ""), done
        assert done.json()["appended"] + done.json()["duplicates"] == expected.lines
        assert_every_line_stored_once(peek, expected)
        assert_verifies_after_a_final_seal(store, expected.events)
        peek.close()

    # a lost server is reported, not dumped: nonzero exit, one line, no traceback
    assert ended
    assert [(f.code, f.err) for f in ended if not is_clean_failure(f)] == []


def test_an_appender_that_fills_the_disk_fails_cleanly_and_a_rerun_with_room_loses_nothing(
    tmp_path: Path, expected: Expected
) -> None:
    append = ("append", "--batch-size", str(BATCH), str(expected.file))
    with small_disk(tmp_path / "disk", megabytes=2) as disk:  # the keys stay off it
        store = Store(f"sqlite:///{disk.path / 'ledger.db'}", tmp_path / "keys")
        store.init()
        peek = Peek(store.url)
        full = store.run(*append)
        stored = appended_lines(peek)
        assert full.code != 0, full
        assert stored < expected.lines
        assert stored % BATCH == 0, "a batch is stored whole or not at all"

        disk.grow(64)
        done = store.run(*append)
        assert (done.code, done.err) == (0, ""), done
        answer = done.json()
        assert (answer["appended"], answer["duplicates"]) == (expected.lines - stored, stored)
        assert_every_line_stored_once(peek, expected)
        assert_verifies_after_a_final_seal(store, expected.events)
        peek.close()

    # a full disk is reported, not dumped: nonzero exit, one line, no traceback
    assert is_clean_failure(full), (full.code, full.err)
