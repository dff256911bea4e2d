"""When the log is sealed: the one policy every face shares.

``SealPolicy`` is the ledger's commit listener (``ledger.appending.listener``).
With no interval it seals after every committed call, so an append, an erasure
or a notice returns with the log already covered by a signed checkpoint. With an
interval it seals at the first commit after the interval has passed since the
last seal, and at close, so the log is never left unsealed longer than the
interval plus one call (a long-running service adds a timer: ``tick``).

A seal that fails after a commit (the signing key file is missing, the stored
tree was altered, the store went away) never turns the committed call into a
failure: the events stand. The policy keeps the error in ``failure`` (until a
later seal succeeds), leaves the commit pending so the next call or ``close``
tries again, and the face reports the write with a separate warning.
``seal()`` called directly still raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.evidence.sealing import Sealer, SignedCheckpoint


class SealPolicy:
    """Seal after each committed call, or at most every ``interval`` seconds."""

    def __init__(
        self,
        sealer: Sealer,
        *,
        interval: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval is not None and interval < 0:
            msg = f"the seal interval must not be negative: {interval}"
            raise ValueError(msg)
        self.sealer = sealer
        self.interval = interval
        self._monotonic = monotonic
        self._sealed_at = monotonic()
        self._pending = False
        self._lock = threading.Lock()
        self.last: SignedCheckpoint | None = None
        """The checkpoint this policy signed or found last (None before the first)."""
        self.failure: Exception | None = None
        """Why the last seal after a commit failed (None once a seal succeeds)."""
        self.on_commit = True
        """Seal in the committing call when due; a service with its own timer turns it off,
        so its writer never waits for a seal (``tick`` and ``closing`` still seal)."""

    def committed(self) -> None:
        """A call committed: seal now, or mark it for the next seal. Never raises."""
        self._pending = True
        if not self.on_commit:
            return
        if self.interval is None or self._monotonic() - self._sealed_at >= self.interval:
            self._seal_after_commit()

    def closing(self) -> None:
        """Seal what committed since the last seal. Never raises."""
        if self._pending:
            self._seal_after_commit()

    def tick(self) -> None:
        """For a timer: seal if something committed and the interval has passed."""
        if self._pending and (
            self.interval is None or self._monotonic() - self._sealed_at >= self.interval
        ):
            self._seal_after_commit()

    def _seal_after_commit(self) -> None:
        try:
            self.seal()
        except Exception as e:  # noqa: BLE001 - the commit stands whatever sealing raised
            self.failure = e
            self._pending = True

    def seal(self) -> SignedCheckpoint:
        """Catch the tree up and sign a checkpoint now (one sealer at a time)."""
        with self._lock:
            self._pending = False
            self.last = self.sealer.seal()
            self._sealed_at = self._monotonic()
            self.failure = None
            return self.last
