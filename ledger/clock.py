"""Where the ledger gets the time: the system clock, or a fixed one in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Gives the current instant, timezone-aware."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """The instant this clock was set to."""
        return self.at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.at += delta
