"""Two writers on one store: no lost or doubled events, versions stay dense."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ledger.appending.application import Ledger
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
