"""One lock around every use of the core.

The eventsourcing application, the keyring and our views are not proven safe
to share between threads, so the service never lets two threads use the core at
once: the writer holds the lock for each group commit, and every read, every
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
    """The core and the one lock that guards it."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.lock = threading.Lock()

    def use(self, work: Callable[[Core], T]) -> T:
        """Run ``work`` with the core, alone."""
        with self.lock:
            return work(self.core)

    def read(self, question: Callable[[Views], T]) -> T:
        """Answer a question from the views, caught up first (read-your-writes)."""
        with self.lock:
            return question(self.core.views())
