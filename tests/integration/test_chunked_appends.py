"""A large call is handed to the store in chunks, and is still one transaction.

``Ledger._stored_chunks`` makes a call's events ``_CHUNK_EVENTS`` at a time; on
PostgreSQL each chunk is one append statement, pipelined in one transaction
(``PostgresLedgerRecorder.insert_chunks``), on SQLite the chunks are written
together. Either way nothing of a call is stored unless all of it is.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger import open_core
from ledger.appending import application
from ledger.appending.application import Ledger
from ledger.persistence.keys import MasterKeySource
from tests import factories as f

SUBJECTS = 450
"""Enough lines for three chunks of ``_CHUNK_EVENTS`` (200) events."""


def refs(count: int = SUBJECTS) -> list[str]:
    return [f"C-{n}" for n in range(count)]


def events_in_store(ledger: Ledger) -> int:
    """Stored events, counted (positions of a rolled-back call are not used again)."""
    return len(ledger.recorder.select_notifications(1, 1_000_000))


def test_a_call_larger_than_a_chunk_is_written_in_chunks() -> None:
    assert SUBJECTS > 2 * application._CHUNK_EVENTS


def test_a_call_of_several_chunks_stores_its_events_in_line_order(ledger: Ledger) -> None:
    registered = f.append(ledger, *[f.subject_registered(ref) for ref in refs()])
    lines = [f.personal_data(ref, {"name": f"N {ref}"}) for ref in refs()]
    result = f.append(ledger, *lines)
    assert result.appended == SUBJECTS
    assert registered.last_position is not None
    stored = ledger.recorder.select_notifications(registered.last_position + 1, SUBJECTS + 1)
    assert [n.originator_id for n in stored] == [ledger.subject_id(ref) for ref in refs()]
    assert [n.id for n in stored] == list(range(stored[0].id, stored[0].id + SUBJECTS))
    assert result.last_position == stored[-1].id


def test_a_conflict_in_a_later_chunk_leaves_nothing_of_the_call_then_it_is_written_once(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(ledger, *[f.subject_registered(ref) for ref in refs()])
    last = refs()[-1]  # in the call's last chunk
    with open_core(store_url, key_file=key_source.path) as other:
        f.append(other.ledger, f.personal_data(last, {"name": "Other writer"}))
    before = events_in_store(ledger)
    writes: list[int] = []
    insert = ledger.ledger_recorder.insert_chunks

    def counted(chunks: Any, **kwargs: Any) -> Any:
        chunks = list(chunks)
        writes.append(len(chunks))
        return insert(chunks, **kwargs)

    ledger.ledger_recorder.insert_chunks = counted  # type: ignore[method-assign]
    # This process still takes the last subject's stream to be one event long: the
    # call's last chunk takes a version the other writer took, so the store refuses
    # it, the whole call rolls back, and the call is checked again after a full read.
    result = f.append(ledger, *[f.personal_data(ref) for ref in refs()])
    assert writes == [3, 3]
    assert result.appended == SUBJECTS
    assert events_in_store(ledger) == before + SUBJECTS
    versions = [
        e.originator_version for e in ledger.recorder.select_events(ledger.subject_id(last))
    ]
    assert versions == [1, 2, 3]


def test_a_large_call_sent_again_is_all_duplicates(ledger: Ledger) -> None:
    f.append(ledger, *[f.subject_registered(ref) for ref in refs()])
    lines = [f.personal_data(ref, idempotency_key=f"k-{ref}") for ref in refs()]
    assert f.append(ledger, *lines).appended == SUBJECTS
    before = events_in_store(ledger)
    again = f.append(ledger, *lines)
    assert (again.appended, again.duplicates) == (0, SUBJECTS)
    assert events_in_store(ledger) == before


@pytest.mark.parametrize("failing_chunk", [1, 3])
def test_a_failure_while_a_chunk_is_made_stores_nothing_of_the_call(
    ledger: Ledger, failing_chunk: int
) -> None:
    f.append(ledger, *[f.subject_registered(ref) for ref in refs()])
    before = events_in_store(ledger)
    made = ledger._stored_chunks

    def failing(*args: Any, **kwargs: Any) -> Any:
        for number, chunk in enumerate(made(*args, **kwargs), start=1):
            if number == failing_chunk:
                msg = "made to fail"
                raise RuntimeError(msg)
            yield chunk

    ledger._stored_chunks = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="made to fail"):
        f.append(ledger, *[f.personal_data(ref) for ref in refs()])
    ledger._stored_chunks = made  # type: ignore[method-assign]
    assert events_in_store(ledger) == before
    assert f.append(ledger, *[f.personal_data(ref) for ref in refs()]).appended == SUBJECTS


def test_what_a_failed_call_folded_into_the_history_cache_is_forgotten(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(ledger, *[f.subject_registered(ref) for ref in refs()])
    last = refs()[-1]
    with open_core(store_url, key_file=key_source.path) as other:
        f.append(other.ledger, f.personal_data(last, {"name": "Other writer"}))
    forgotten: list[set[Any]] = []
    forget = ledger._histories.forget

    def recorded(subject_ids: Any) -> None:
        forgotten.append(set(subject_ids))
        forget(subject_ids)

    ledger._histories.forget = recorded  # type: ignore[method-assign]
    f.append(ledger, *[f.personal_data(ref) for ref in refs()])
    if store_url.startswith("postgresql"):
        # The cache was folded while the server wrote the last chunk; the write failed.
        assert [len(ids) for ids in forgotten] == [SUBJECTS]
    else:
        assert forgotten == []  # SQLite folds after its commit only
    known = ledger._histories.known(last)
    assert known is not None
    assert known.version == 3  # what the retry committed
    f.append(ledger, f.personal_data(last))
    stream = ledger.recorder.select_events(ledger.subject_id(last))
    assert [e.originator_version for e in stream] == [1, 2, 3, 4]
