"""Sealed values are bound to their stream, version and category."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import uuid4

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
