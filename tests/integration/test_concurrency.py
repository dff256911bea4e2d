"""Two writers on one store: no lost or doubled events, versions stay dense."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
