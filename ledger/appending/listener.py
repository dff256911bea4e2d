"""What the ledger tells after it commits: the seam the sealing policy plugs into.

The append pipeline knows nothing of sealing (``ledger.evidence`` sits above it);
the composition root (``ledger.bootstrap``) gives the ledger a listener that seals
under the configured policy. A ledger without one leaves its log unsealed, and
``verify`` says so.
"""

from __future__ import annotations

from typing import Protocol


class CommitListener(Protocol):
    """Told after every committed write call and when the ledger closes."""

    def committed(self) -> None:
        """A call committed events (an append, a notice, an erasure)."""
        ...

    def closing(self) -> None:
        """The ledger is closing: last chance to act on what committed."""
        ...


class NoListener:
    """The listener of a ledger nobody wired: does nothing."""

    def committed(self) -> None:
        """Nothing to do."""

    def closing(self) -> None:
        """Nothing to do."""
