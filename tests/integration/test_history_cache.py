"""Judged appends read only what they have not read of a subject's stream before.

The ledger keeps each judged subject's history as far as it read or wrote it
(``ledger.appending.histories``); the prefetch returns only the events past that
version, in the same statement as every other look-up. What another writer
appended meanwhile is past it too, so it is never missed: the write that assumed
it was not there is refused, and the call reads.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from ledger import open_core
from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.persistence.keys import MasterKeySource
from tests import factories as f


def at(day: int) -> str:
    return f"2024-02-{day:02d}T10:00:00+02:00"


def test_a_withdrawal_appended_by_another_writer_is_judged_by_the_next_use(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(ledger, f.subject_registered("C-1", occurred_at=at(1)),
             f.consent_granted("C-1", occurred_at=at(2)))  # fmt: skip
    lawful = f.append(ledger, f.processed("C-1", occurred_at=at(3)))
    assert lawful.as_dict()["findings"] == []
    with open_core(store_url, key_file=key_source.path) as other:
        f.append(other.ledger, f.consent_withdrawn("C-1", occurred_at=at(4)))
    unlawful = f.append(ledger, f.processed("C-1", occurred_at=at(5)))
    assert [x["rule"] for x in unlawful.as_dict()["findings"]] == ["no_lawful_basis"]


def test_a_judged_append_reads_only_the_events_past_what_it_read_before(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    read: list[int] = []
    prefetch = ledger.ledger_recorder.prefetch

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = prefetch(*args, **kwargs)
        read.append(len(found.streams))
        return found

    ledger.ledger_recorder.prefetch = counted  # type: ignore[method-assign]
    f.append(ledger, f.subject_registered("C-2", occurred_at=at(1)),
             f.consent_granted("C-2", occurred_at=at(2)))  # fmt: skip
    with open_core(store_url, key_file=key_source.path) as other:
        for day in (3, 5, 7):
            f.append(other.ledger, f.processed("C-2", occurred_at=at(day)))
            f.append(ledger, f.processed("C-2", occurred_at=at(day + 1)))
    # What this process wrote it knows (no read); each time, it reads only the use
    # the other writer appended since.
    assert read == [1, 1, 1]


def test_the_prefetch_reads_a_stream_from_the_start_when_it_was_read_from_another(
    core: Core, ledger: Ledger
) -> None:
    f.append(ledger, f.subject_registered("C-3"), f.contract_started("C-3"),
             f.consent_granted("C-3"))  # fmt: skip
    recorder = ledger.ledger_recorder
    subject_id = recorder.select_subjects(["C-3"])["C-3"]
    past_one = recorder.prefetch(["C-3"], [], [("C-3", subject_id, 1)], [])
    assert [e.originator_version for e in past_one.streams] == [2, 3]
    elsewhere = recorder.prefetch(["C-3"], [], [("C-3", uuid4(), 3)], [])
    assert [e.originator_version for e in elsewhere.streams] == [1, 2, 3]
    never = recorder.prefetch(["C-3"], [], [("C-3", None, 0)], [])
    assert [e.originator_version for e in never.streams] == [1, 2, 3]
