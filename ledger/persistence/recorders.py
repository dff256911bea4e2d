"""What the ledger's recorders share: the side rows an append writes, and the protocol.

The library's recorders store the events; ours (``recorders_sqlite``,
``recorders_postgres``) add, in the same transaction as the events (the
``_insert_events`` hook), the rows an append creates beside them:

* ``ledger_subjects``: the services' subject references -> internal stream ids;
* ``ledger_idempotency``: keyed digests of idempotency keys and of the content;
* ``ledger_keys``: per (subject, category) data keys, wrapped by the master key;
* ``ledger_meta``: the master key's id and the wrapped index key.

A uniqueness violation in any of them (a concurrent writer got there first) rolls
the whole append back; the application re-reads and retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification, StoredEvent


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One data key row; ``wrapped`` is None once the key was destroyed."""

    subject_id: UUID
    category: str
    key_version: int
    wrapped: bytes | None
    master_key_id: str
    created_at: datetime
    destroyed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Shredding:
    """An erasure's changes beside its event: keys destroyed, mappings removed."""

    subject_id: UUID
    categories: Sequence[str]
    at: datetime
    remove_reference: bool


@dataclass(frozen=True, slots=True)
class SideRows:
    """What an append writes beside its events."""

    subjects: Sequence[tuple[str, UUID, datetime]] = ()
    idempotency: Sequence[tuple[bytes, bytes, UUID, int]] = ()
    keys: Sequence[KeyRow] = ()
    shredding: Shredding | None = None
    expected: Sequence[tuple[UUID, int]] = ()
    """Streams the call was checked against but does not write, each with the version
    it read (0: none): the write fails with an integrity error, storing nothing, when
    another writer has appended to one since (the notice and recipient streams)."""


Chunk = tuple["Sequence[StoredEvent]", SideRows]
"""Part of one call's rows: events and the side rows that go with them."""


def merged(chunks: Iterable[Chunk]) -> Chunk:
    """A call's chunks as one: every event and side row, in order.

    The subjects, checked streams and shredding of a call come with its first chunk.
    """
    events: list[StoredEvent] = []
    subjects: list[tuple[str, UUID, datetime]] = []
    idempotency: list[tuple[bytes, bytes, UUID, int]] = []
    keys: list[KeyRow] = []
    expected: list[tuple[UUID, int]] = []
    shredding: Shredding | None = None
    for chunk_events, side in chunks:
        events += chunk_events
        subjects += side.subjects
        idempotency += side.idempotency
        keys += side.keys
        expected += side.expected
        shredding = shredding or side.shredding
    side = SideRows(subjects, idempotency, keys, shredding, expected)
    return events, side


JudgedRead = tuple[str, "UUID | None", int]
"""A judged subject's reference, the stream it was read from before (None: never) and
the version read to: the prefetch returns only that stream's events past it."""


@dataclass(frozen=True, slots=True)
class Prefetch:
    """Everything one append call reads before it checks, from one round trip."""

    subjects: dict[str, UUID]
    """Subject references that exist, and their stream ids."""
    idempotency: dict[bytes, bytes]
    """Content digests stored under the call's idempotency key digests."""
    versions: dict[UUID, int]
    """Last version of each found subject's stream and of each stream asked for."""
    keys: list[KeyRow]
    """Every data key row of the found subjects, destroyed ones included."""
    streams: list[StoredEvent]
    """The stored events of the found subjects among ``judged`` past the version each was
    read to (all of them when never read, or read from another stream), in stream order."""


class LedgerRecorder(Protocol):
    """What the ledger needs of a store beyond the library's ApplicationRecorder."""

    datastore: Any
    """The library's datastore (connections and transactions) the views share."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """Insert events and side rows atomically."""
        ...

    def insert_chunks(
        self, chunks: Iterable[Chunk], *, meanwhile: Callable[[], None] | None = None
    ) -> Sequence[int]:
        """Insert one call's chunks atomically, taking each as the caller makes it.

        ``meanwhile``, where the store works on its own while the client waits (a
        server), is called once every chunk was handed over and before the commit
        is known: work the caller can undo should the write then fail. Elsewhere it
        is not called. Returns the events' positions, in order.
        """
        ...

    def release(self) -> None:
        """Give back what the recorder keeps between calls (the ledger closes)."""
        ...

    def select_events(self, originator_id: UUID, *, gt: int | None = None) -> Any:
        """The stored events of one stream."""
        ...

    def select_subjects(self, refs: Iterable[str]) -> dict[str, UUID]:
        """Internal ids of the given subject references that exist."""
        ...

    def prefetch(
        self,
        refs: Sequence[str],
        digests: Sequence[bytes],
        judged: Sequence[JudgedRead],
        streams: Sequence[UUID],
    ) -> Prefetch:
        """What an append reads before it checks, in as few round trips as possible.

        Subjects, idempotency digests, stream versions, keys, and the judged
        subjects' events past what the caller read of them before.
        """
        ...

    def select_refs(self, subject_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Subject references of the given internal ids (those not erased)."""
        ...

    def select_streams(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        """Every stored event of the given streams, in stream order (one query)."""
        ...

    def select_idempotency(self, digests: Iterable[bytes]) -> dict[bytes, bytes]:
        """Content digests recorded under the given idempotency key digests."""
        ...

    def select_stream_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        """The last version of each given stream that has events."""
        ...

    def select_keys(self, subject_ids: Iterable[UUID]) -> list[KeyRow]:
        """Every data key row of the given subjects, destroyed ones included."""
        ...

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        """Log position (notification id) of each version of one stream."""
        ...

    def select_at_positions(self, positions: Iterable[int]) -> list[Notification]:
        """The stored events at the given log positions."""
        ...

    def get_meta(self, name: str) -> bytes | None:
        """A value from ledger_meta."""
        ...

    def put_meta(self, values: dict[str, bytes]) -> None:
        """Insert values into ledger_meta; an existing name is an integrity error."""
        ...

    def has_ledger_tables(self) -> bool:
        """Whether ``ledger init`` has created this store."""
        ...

    def checkpoint_wal(self) -> None:
        """After an erasure: leave no old page images in a write-ahead log."""
        ...

    def select_all_keys(self) -> list[KeyRow]:
        """Every live data key (for re-wrapping under a new master key)."""
        ...

    def rewrap(self, rows: Sequence[KeyRow], meta: dict[str, bytes]) -> None:
        """Replace wrapped keys and meta values in one transaction."""
        ...
