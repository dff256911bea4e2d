"""On PostgreSQL the views are caught up by a process of the service's own.

Applying what the writer commits to the eight views is as much Python per event
as the append itself. In the service's process it competed with the event loop
and the writer for the interpreter's lock, and its pauses were the service's
slowest answers. ``ViewsProcess`` runs the projection runner in a child process
(``multiprocessing``'s spawn: a fresh interpreter opening the same store with the
same key file), following the log every ``poll`` seconds. Reads in the service
still catch up themselves (read-your-writes); runners in two processes never
clash (``ViewStore.claim``).

The child ends when told to (``stop``, at the service's shutdown) or when its
parent is gone (it looks every poll), so a killed service leaves no runner
behind. A failing catch-up is logged and tried again at the next poll; the
service's ``/readyz`` reports the lag either way. SQLite's embedded store keeps
catching up in the service's own timer (one writer per database file).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path

_log = logging.getLogger("ledger.service")

STOP_WAIT = 10.0
"""Seconds the service waits for the child to finish its page before ending it."""


def follow(store: str | None, key_file: str | None, parent: int, stop: Event, poll: float) -> None:
    """The child: keep the views caught up until ``stop`` is set or the parent is gone."""
    from ledger.bootstrap import bootstrap  # noqa: PLC0415 - imported in the child only

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    core = bootstrap(store, key_file=key_file)
    try:
        runner = core.runner()
        while not stop.is_set() and os.getppid() == parent:
            try:
                runner.catch_up()
            except Exception as e:  # noqa: BLE001 - logged; the next poll tries again
                _log.warning("views process: %s: %s", type(e).__name__, e)
            stop.wait(poll)
    finally:
        core.close()


@dataclass
class ViewsProcess:
    """Starts and stops the child that keeps a PostgreSQL store's views caught up."""

    store: str | None
    key_file: str | Path | None
    poll: float = 0.2
    _process: BaseProcess | None = None
    _stop: Event | None = None

    def start(self) -> None:
        """Start the child (a fresh interpreter; the store is opened there)."""
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        key_file = None if self.key_file is None else str(self.key_file)
        self._process = context.Process(
            target=follow, name="ledger-views", daemon=True,
            args=(self.store, key_file, os.getpid(), self._stop, self.poll),
        )  # fmt: skip
        self._process.start()

    @property
    def alive(self) -> bool:
        """Whether the child runs."""
        return self._process is not None and self._process.is_alive()

    def stop(self) -> None:
        """Ask the child to stop after its page; end it if it does not within STOP_WAIT."""
        if self._process is None or self._stop is None:
            return
        self._stop.set()
        self._process.join(STOP_WAIT)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._process = None
