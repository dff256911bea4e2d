"""The projection runner: catch up from each view's tracked position, then follow.

Works the same on SQLite and PostgreSQL because it pulls: it reads pages of the
notification log after the lowest tracked position (``id > position``; on
PostgreSQL the library's table lock makes commit order equal id order, so a
reader never passes a row that commits later), decodes each page once, and gives
each projection the events past its own position. Each projection writes its
view change and its new position in one transaction, so a crash loses nothing and
applies nothing twice. Following polls, so the newest event is never left waiting
for a next write (the library's LISTEN/NOTIFY subscription can leave it so, and
SQLite has no subscription at all).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx, ViewStore
from projections.base import Projection, ProjectionFailed

if TYPE_CHECKING:
    from ledger.appending.application import Ledger

Progress = Callable[[int, int], None]
"""Called with (position reached, target position) after each page."""


class ProjectionRunner:
    """Keeps a set of projections up to date with the log."""

    def __init__(
        self,
        ledger: Ledger,
        projections: Sequence[type[Projection]] | None = None,
        *,
        store: ViewStore,
        page_size: int = 2000,
    ) -> None:
        from projections import PROJECTIONS  # noqa: PLC0415 - the registry imports this module

        self.ledger = ledger
        self.store = store
        self.projections = [cls(self.store) for cls in (projections or PROJECTIONS)]
        self.page_size = page_size
        for projection in self.projections:
            projection.create()

    def positions(self) -> dict[str, int]:
        """Each projection's tracked position."""
        return {p.name: self.store.position(p.name) for p in self.projections}

    def head(self) -> int:
        """The log's last position."""
        return self.ledger.recorder.max_notification_id() or 0

    def catch_up(self, *, until: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event up to ``until`` (default: the log's head); returns how many."""
        target = self.head() if until is None else until
        positions = self.positions()
        done = 0
        while positions and min(positions.values()) < target:
            start = min(positions.values())
            page = self.ledger.recorder.select_notifications(
                start, self.page_size, stop=target, inclusive_of_start=False
            )
            if not page:
                break
            events = [self.ledger.mapper.to_raw(n) for n in page]
            for projection in self.projections:
                todo = [e for e in events if e.position > positions[projection.name]]
                if todo:
                    self._apply(projection, todo)
                    positions[projection.name] = todo[-1].position
            done += len(events)
            if progress is not None:
                progress(events[-1].position, target)
        return done

    def _apply(self, projection: Projection, events: Sequence[RawEvent]) -> None:
        """Apply ``events`` past the position the store holds now, in one transaction.

        Another runner (another process, or a read catching up) may have applied some
        of them since this one read its positions: the transaction first takes the
        projection's write lock (``ViewStore.claim``), then reads the tracked position
        again and applies only what lies past it.
        """
        try:
            with self.store.transaction() as tx:
                applied = self.store.claim(tx, projection.name)
                todo = [e for e in events if e.position > applied]
                if todo:
                    projection.apply(tx, todo)
                    tx.track(projection.name, todo[-1].position)
        except Exception as error:
            culprit = self._culprit(projection, events)
            raise ProjectionFailed(projection.name, culprit, error) from error

    def _culprit(self, projection: Projection, events: Sequence[RawEvent]) -> RawEvent | None:
        """Re-apply one event at a time, without committing, to name the failing one."""
        for event in events:
            try:
                with self.store.datastore.transaction(commit=False) as cursor:
                    projection.apply(Tx(self.store, cursor), [event])
            except Exception:  # noqa: BLE001 - looking for the event that fails
                return event
        return None

    def wait(self, position: int, timeout: float = 10.0) -> None:
        """Return once every projection has applied ``position`` (read-your-writes)."""
        deadline = time.monotonic() + timeout
        while min(self.positions().values()) < position:
            if time.monotonic() > deadline:
                msg = f"projections did not reach position {position} within {timeout} s"
                raise TimeoutError(msg)
            time.sleep(0.05)

    def follow(self, stop: threading.Event, *, poll: float = 0.2) -> None:
        """Catch up, then keep applying new events until ``stop`` is set."""
        while not stop.is_set():
            self.catch_up()
            stop.wait(poll)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view and replay the whole log into it."""
        with self.store.transaction() as tx:
            for projection in self.projections:
                projection.drop(tx)
        for projection in self.projections:
            projection.create()
        count = self.catch_up(progress=progress)
        self.store.analyze([t for p in self.projections for t in p.tables])
        return count
