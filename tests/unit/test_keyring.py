"""Sealed values are bound to their stream, version and category."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from ledger.errors import KeyUnavailable
from ledger.persistence.keys import KeyRing, master_key_id
from ledger.persistence.recorders import KeyRow

NOW = datetime(2024, 1, 1, tzinfo=UTC)


class InMemoryKeys:
    """A fake key store: the rows an append would have written."""

    def __init__(self) -> None:
        self.rows: list[KeyRow] = []

    def select_keys(self, subject_ids):
        wanted = set(subject_ids)
        return [r for r in self.rows if r.subject_id in wanted]


def ring(store: InMemoryKeys, master: bytes = b"m" * 32) -> KeyRing:
    return KeyRing(store, master)  # type: ignore[arg-type]


def test_a_sealed_value_opens_for_its_own_stream_version_and_category() -> None:
    store = InMemoryKeys()
    writer = ring(store)
    subject = uuid4()
    sealed = writer.seal(subject, 2, "billing", b"secret", NOW)
    store.rows += writer.pending
    reader = ring(store)
    reader.load([subject])
    assert reader.open(subject, 2, "billing", sealed) == b"secret"


@pytest.mark.parametrize("moved", ["stream", "version", "category"])
def test_a_sealed_value_moved_elsewhere_does_not_open(moved: str) -> None:
    store = InMemoryKeys()
    writer = ring(store)
    subject, other = uuid4(), uuid4()
    sealed = writer.seal(subject, 2, "billing", b"secret", NOW)
    writer.seal(other, 2, "billing", b"other", NOW)
    writer.seal(subject, 3, "cookies", b"x", NOW)
    store.rows += writer.pending
    reader = ring(store)
    reader.load([subject, other])
    target = {
        "stream": (other, 2, "billing"),
        "version": (subject, 3, "billing"),
        "category": (subject, 2, "cookies"),
    }[moved]
    stream, version, _ = target
    message = (
        f"a sealed value of stream {stream} version {version} does not open under its key:"
        " the event or the key store was altered"
    )
    with pytest.raises(KeyUnavailable, match=f"^{re.escape(message)}$"):
        reader.open(*target, sealed)


def test_a_destroyed_key_reads_as_erased_and_the_next_key_gets_a_new_version() -> None:
    store = InMemoryKeys()
    writer = ring(store)
    subject = uuid4()
    sealed = writer.seal(subject, 1, "billing", b"secret", NOW)
    (row,) = writer.pending
    store.rows.append(
        KeyRow(
            row.subject_id,
            row.category,
            row.key_version,
            None,
            row.master_key_id,
            NOW,
            NOW,
        )
    )
    reader = ring(store)
    reader.load([subject])
    assert reader.open(subject, 1, "billing", sealed) is None
    reader.seal(subject, 2, "billing", b"new", NOW)
    assert [r.key_version for r in reader.pending] == [2]


def test_a_key_wrapped_by_another_master_key_is_refused() -> None:
    store = InMemoryKeys()
    writer = ring(store, b"a" * 32)
    subject = uuid4()
    writer.seal(subject, 1, "billing", b"secret", NOW)
    store.rows += writer.pending
    with pytest.raises(KeyUnavailable, match=master_key_id(b"a" * 32)):
        ring(store, b"b" * 32).load([subject])


def test_a_failed_append_forgets_the_keys_it_made() -> None:
    store = InMemoryKeys()
    keys = ring(store)
    subject = uuid4()
    keys.seal(subject, 1, "billing", b"secret", NOW)
    keys.discard()
    assert keys.pending == []
    keys.seal(subject, 1, "billing", b"again", NOW)
    assert [r.key_version for r in keys.pending] == [1]


def sealed_by(store: InMemoryKeys, subjects: list[UUID]) -> tuple[KeyRing, dict[UUID, str]]:
    """A ring that made one key per subject, committed, and each subject's sealed value."""
    keys = ring(store)
    sealed = {s: keys.seal(s, 1, "billing", s.bytes, NOW) for s in subjects}
    store.rows += keys.pending
    keys.committed(subjects)
    return keys, sealed


def test_trimming_drops_the_keys_of_the_subjects_used_least_recently() -> None:
    store = InMemoryKeys()
    subjects = [uuid4() for _ in range(12)]
    keys, _ = sealed_by(store, subjects)
    busy = subjects[:3]
    keys.take(busy, [])  # used again: now the most recent
    keys.trim(8)
    assert keys.holds(busy)
    held = [s for s in subjects if keys.holds([s])]
    assert len(held) == 6  # down to three quarters of the bound
    assert held == [*busy, *subjects[-3:]]


def test_keys_are_not_trimmed_while_an_append_holds_new_ones() -> None:
    store = InMemoryKeys()
    subjects = [uuid4() for _ in range(12)]
    keys, _ = sealed_by(store, subjects)
    keys.seal(uuid4(), 1, "billing", b"pending", NOW)
    keys.trim(8)
    assert keys.holds(subjects)


def test_a_subject_trimmed_away_has_its_keys_read_again_when_used() -> None:
    store = InMemoryKeys()
    subjects = [uuid4() for _ in range(12)]
    keys, sealed = sealed_by(store, subjects)
    keys.trim(4)
    first = subjects[0]
    assert not keys.holds([first])
    assert keys.open(first, 1, "billing", sealed[first]) == first.bytes
    keys.load([first])
    assert keys.holds([first])


def test_subjects_held_without_keys_are_trimmed_too() -> None:
    keys = ring(InMemoryKeys())
    subjects = [uuid4() for _ in range(40)]
    keys.committed(subjects)  # registered, no data yet
    keys.trim(8)
    assert sum(keys.holds([s]) for s in subjects) <= 4 * 6
    assert keys.holds(subjects[-24:])
