"""The timer: seal what was written at least every ``seal_every`` seconds; views kept close.

Each second it calls the sealing policy's ``tick`` (which seals when something
committed and the interval has passed) and, when the views lag the log by half
the readiness bound, catches them up, so a service that is only written to
stays ready. At stop the writer has finished; the policy seals what is pending.
"""

from __future__ import annotations

import logging
import threading

from ledger.bootstrap import Core
from ledger.service.gate import Gate
from ledger.service.metrics import Metrics
from ledger.service.routes_ops import projection_lag

_log = logging.getLogger("ledger.service")


class SealTimer:
    """A thread that ticks the sealing policy and keeps the views within bounds."""

    def __init__(self, gate: Gate, metrics: Metrics, *, every: float, lag_bound: int) -> None:
        self._gate = gate
        self._metrics = metrics
        self._every = every if 0 < every < 1 else 1.0
        self._catch_up_over = max(0, lag_bound // 2)
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
                self._gate.use(self._tick)
            except Exception as e:  # noqa: BLE001 - the timer goes on; readiness reports the store
                _log.warning("seal timer: %s", type(e).__name__)

    def _tick(self, core: Core) -> None:
        core.policy.tick()
        lag = projection_lag(core)
        if lag > self._catch_up_over:
            core.runner().catch_up()
            lag = projection_lag(core)
        self._metrics.lag.set(lag)
