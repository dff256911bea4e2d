"""One lock around every use of the core.

The ledger serializes its own calls (``Ledger.exclusive``), but our views are not
proven safe to share between threads, so the service never lets two threads use
the core at once: the writer holds the lock for each group commit, and every read, every
token look-up and every seal takes it too. Reads catch the projections up inside
it (``Core.views``), so a read never sees a half-applied page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from ledger.bootstrap import Core
from projections.queries import Views

T = TypeVar("T")


class Gate:
    """The core and the locks that guard it.

    ``lock`` is the one lock around the core. ``views_lock`` is held while the
    projections catch up, so that two catch-ups never overlap. Every use takes both
    (in that order), except the writer's group commit, which touches no view and takes
    ``lock`` only; on PostgreSQL the timer catches the views up under ``views_lock``
    only, beside the writer (``catch_up_step``).
    """

    def __init__(self, core: Core) -> None:
        self.core = core
        self.lock = threading.Lock()
        self.views_lock = threading.Lock()

    def use(self, work: Callable[[Core], T]) -> T:
        """Run ``work`` with the core, alone."""
        with self.lock, self.views_lock:
            return work(self.core)

    def read(self, question: Callable[[Views], T]) -> T:
        """Answer a question from the views, caught up first (read-your-writes)."""
        with self.lock, self.views_lock:
            return question(self.core.views())

    def catch_up_step(self, step: int) -> int:
        """Apply at most ``step`` events of the log to the views; the lag before.

        On PostgreSQL beside the writer: the runner reads the log and writes each view
        through its own transactions on connections of the pool, and uses nothing of
        the writer's. SQLite's embedded store catches up under the gate like every use.
        """
        if self.core.ledger.store.kind == "postgresql":
            with self.views_lock:
                return self._step(step)
        with self.lock, self.views_lock:
            return self._step(step)

    def lag(self) -> int:
        """Events the slowest view is behind the log, nothing applied (a step of 0)."""
        return self.catch_up_step(0)

    def _step(self, step: int) -> int:
        runner = self.core.runner()
        lowest = min(runner.positions().values(), default=0)
        head = runner.head()
        if step and head > lowest:
            runner.catch_up(until=min(head, lowest + step))
        return max(0, head - lowest)
