"""Two writers on one store: no lost or doubled events, versions stay dense."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from tests import factories as f


def test_concurrent_writers_to_one_subject_both_succeed(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    writers = [Ledger(parse_store_url(store_url), key_source) for _ in range(2)]

    def write(w: int) -> int:
        total = 0
        for i in range(15):
            line = f.personal_data("C-1", {"name": f"N{w}-{i}"}, idempotency_key=f"w{w}-{i}")
            total += f.append(writers[w], line).appended
        return total

    with ThreadPoolExecutor(2) as pool:
        assert sum(pool.map(write, range(2))) == 30
    events = ledger.stream(ledger.subject_id("C-1"))
    assert [e.originator_version for e in events] == list(range(1, 32))
    assert {e.data.fields["name"] for e in events[1:]} == {
        f"N{w}-{i}" for w in range(2) for i in range(15)
    }
    for w in writers:
        w.close()


def test_threads_sharing_one_ledger_append_keyless_lines_exactly_once(core: Core) -> None:
    """One ledger (as a service holds it) written by several threads at once, each
    committed call sealed by the library's listener: the sealer holds the write lock
    and reads through its own transaction, so the threads waiting for the lock
    never starve it of a connection."""
    ledger = core.ledger
    f.append(ledger, *(f.subject_registered(f"C-{s}") for s in range(2)))

    def write(w: int) -> int:
        total = 0
        for i in range(10):
            lines = [f.personal_data(f"C-{(w + i + j) % 2}", {"name": f"T{w}-{i}-{j}"})
                     for j in range(3)]  # fmt: skip
            total += f.append(ledger, *lines).appended
        return total

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(write, range(4))) == 120
    names = [
        e.data.fields["name"]
        for s in range(2)
        for e in ledger.stream(ledger.subject_id(f"C-{s}"))[1:]
    ]
    assert sorted(names) == sorted(f"T{w}-{i}-{j}" for w in range(4) for i in range(10)
                                   for j in range(3))  # fmt: skip
    assert core.policy.failure is None
    checkpoint = core.sealer.latest()
    assert checkpoint is not None
    assert checkpoint.size == len(ledger.recorder.select_notifications(1, 10_000))  # ids may skip


def test_a_data_key_made_in_one_thread_is_stored_when_another_threads_call_commits_first(
    core: Core, store_url: str, key_source: MasterKeySource
) -> None:
    """Two threads on one ledger, interleaved at the worst moment: B makes a subject's
    first data key while A, whose call made none, commits. A commit used to mark every
    pending key stored, B's too, so B's call then went without the key's row and its
    value could never be opened again. Read back by a fresh ledger (no key held)."""
    ledger = core.ledger
    f.append(ledger, f.subject_registered("C-1"), f.subject_registered("C-2"))
    f.append(ledger, f.personal_data("C-1"))  # C-1's key exists; C-2 has none yet
    a_built, b_sealed, a_done = threading.Event(), threading.Event(), threading.Event()
    insert, ring = ledger.ledger_recorder.insert_chunks, ledger.keyring
    seal = ring.seal

    def a_writes_once_b_sealed(chunks: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "A":
            chunks = list(chunks)  # A's rows and the keys they carry (none) are made
            a_built.set()
            b_sealed.wait(1)  # a lock around each call keeps B out: then A goes on alone
        return insert(iter(chunks), **kwargs)

    def b_waits_for_a_after_sealing(*args: Any) -> Any:
        sealed = seal(*args)
        if threading.current_thread().name == "B":
            b_sealed.set()
            a_done.wait(1)
        return sealed

    ledger.ledger_recorder.insert_chunks = a_writes_once_b_sealed  # type: ignore[method-assign]
    ring.seal = b_waits_for_a_after_sealing  # type: ignore[method-assign,assignment]

    def a() -> None:
        f.append(ledger, f.personal_data("C-1", {"name": "Aino Korhonen"}))
        a_done.set()

    threads = [threading.Thread(target=a, name="A")]
    threads[0].start()
    assert a_built.wait(5)
    threads.append(threading.Thread(target=lambda: f.append(
        ledger, f.personal_data("C-2", {"name": "Eino Leino"})), name="B"))  # fmt: skip
    threads[1].start()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    fresh = Ledger(parse_store_url(store_url), key_source)
    try:
        events = fresh.stream(fresh.subject_id("C-2"))
        assert events[-1].data.fields == {"name": "Eino Leino"}
    finally:
        fresh.close()


def test_a_call_in_one_thread_is_sealed_while_another_thread_holds_a_one_call_open(
    core: Core,
) -> None:
    """``one_call`` (a stream, a retention run) defers the seal of the writes inside it
    to its end, in its own thread: another thread's call on the same ledger is sealed
    when it commits, as if it were alone."""
    ledger = core.ledger
    inside, release = threading.Event(), threading.Event()

    def hold_one_call() -> None:
        with ledger.one_call():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold_one_call)
    holder.start()
    try:
        assert inside.wait(5)
        f.append(ledger, f.subject_registered("C-1"))
        checkpoint = core.sealer.latest()
        assert checkpoint is not None
        assert checkpoint.size == len(ledger.recorder.select_notifications(1, 10_000))
    finally:
        release.set()
        holder.join(10)


def test_a_stream_iterated_by_two_threads_leaves_both_sealing_their_calls(core: Core) -> None:
    """A framework may run each step of a generator on whichever worker thread is free:
    ``append_stream``'s ``one_call`` then starts in one thread and ends in another, and
    must leave neither thread deferring its later calls' seals."""
    ledger = core.ledger
    lines = [orjson.dumps(f.subject_registered(f"C-{i}")) for i in range(4)]
    stream = ledger.append_stream(lines, batch_size=2)
    sealed: list[bool] = []

    def sealed_now() -> bool:
        checkpoint = core.sealer.latest()
        return checkpoint is not None and checkpoint.size == len(
            ledger.recorder.select_notifications(1, 10_000)
        )

    def first() -> None:
        next(stream)

    def rest_then_append() -> None:
        for _ in stream:
            pass
        f.append(ledger, f.subject_registered("C-9"))
        sealed.append(sealed_now())

    for step in (first, rest_then_append):
        thread = threading.Thread(target=step)
        thread.start()
        thread.join(10)
        assert not thread.is_alive()
    assert sealed == [True]
    f.append(ledger, f.subject_registered("C-10"))
    assert sealed_now()
