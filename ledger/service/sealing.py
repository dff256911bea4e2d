"""The timer: seal what was written at least every ``seal_every`` seconds; views kept close.

Each second it calls the sealing policy's ``tick`` (which seals when something
committed and the interval has passed) and catches the views up in steps of
``CATCH_UP_STEP`` events, so a service that is only written to stays ready and
its reads stay quick; when a process of their own keeps the views caught up
(``views_process``, PostgreSQL), the timer only reports their lag. At stop the
writer has finished; the policy seals what is pending.
"""

from __future__ import annotations

import logging
import threading

from ledger.service.gate import Gate
from ledger.service.metrics import Metrics

_log = logging.getLogger("ledger.service")

CATCH_UP_STEP = 500
"""Events the timer applies to the views per hold of the gate."""


class SealTimer:
    """A thread that ticks the sealing policy and keeps the views within bounds.

    The writer's commits never seal (``SealPolicy.on_commit`` off): the timer does.
    """

    def __init__(
        self, gate: Gate, metrics: Metrics, *, every: float, views_elsewhere: bool = False
    ) -> None:
        self._gate = gate
        self._views_elsewhere = views_elsewhere
        gate.core.policy.on_commit = False
        self._metrics = metrics
        self._every = every if 0 < every < 1 else 1.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ledger-sealer", daemon=True)

    def start(self) -> None:
        """Start ticking."""
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking, then seal what is pending (the final seal)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._gate.use(lambda c: c.policy.closing())

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._seal()
                self._keep_views_close()
            except Exception as e:  # noqa: BLE001 - the timer goes on; readiness reports the store
                _log.warning("seal timer: %s", type(e).__name__)

    def _seal(self) -> None:
        """Seal when due; on PostgreSQL beside the writer, not in its way.

        The sealer reads the log through its own transaction and takes the store's
        seal lock (built for sealers in other processes), and uses nothing of the
        writer's (no keys); PostgreSQL's pool gives this thread its own connection.
        SQLite's embedded store is sealed under the gate like every other use.
        """
        core = self._gate.core
        if core.ledger.store.kind == "postgresql":
            core.policy.tick()
        else:
            self._gate.use(lambda c: c.policy.tick())

    def _keep_views_close(self) -> None:
        """Catch the views up a step at a time, letting the writer in between steps.

        A read catches up too (read-your-writes), so keeping the lag small here keeps
        reads quick; one long catch-up under the gate would stall every commit.
        """
        if self._views_elsewhere:  # a process of their own catches them up
            self._metrics.lag.set(self._gate.lag())
            return
        while not self._stop.is_set():
            lag = self._gate.catch_up_step(CATCH_UP_STEP)
            self._metrics.lag.set(max(0, lag - CATCH_UP_STEP))
            if lag <= CATCH_UP_STEP:
                return
