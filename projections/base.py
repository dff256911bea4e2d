"""What every projection is: a name, its tables, and rows for a batch of events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from ledger.errors import LedgerError
from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx, ViewStore

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    """An instant as microseconds since the epoch: compact, exact and sortable in SQL."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def instant(value: int) -> datetime:
    """Microseconds since the epoch back to an aware UTC datetime."""
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


class ProjectionFailed(LedgerError):
    """A projection's handler failed on an event; the projection stops there."""

    def __init__(self, projection: str, event: RawEvent | None, cause: BaseException) -> None:
        self.projection = projection
        self.event = event
        where = (
            f"event at position {event.position} ({event.type}, stream {event.stream_id}"
            f" v{event.version})"
            if event is not None
            else "a batch"
        )
        super().__init__(f"projection {projection} failed on {where}: {cause!r}")


class Projection(ABC):
    """A read model built from the log; rebuildable at any time by replaying it."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    ddl: ClassVar[tuple[str, ...]]

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def create(self) -> None:
        """Create the view's tables and indexes if they do not exist."""
        with self.store.transaction() as tx:
            for statement in self.ddl:
                tx.execute(statement)

    def drop(self, tx: Tx) -> None:
        """Drop the view's tables and forget its position."""
        for table in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {{t}}{table}")
        self.store.forget_position(tx, self.name)

    @abstractmethod
    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        """Write the view changes of these events (the runner tracks the position)."""
