"""Which version of the register (the privacy notice) was in force when."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from schemas.register import RegisterDefinition


@dataclass(frozen=True, slots=True)
class NoticeVersion:
    """One published version of the register definition."""

    version: str
    effective_from: datetime
    definition: RegisterDefinition
    digest: str
    position: int | None = None


@dataclass(slots=True)
class NoticeHistory:
    """Published notice versions, ordered by the instant they take effect."""

    versions: list[NoticeVersion] = field(default_factory=list)

    def add(self, notice: NoticeVersion) -> None:
        """Take in a newly published version."""
        keys = [v.effective_from for v in self.versions]
        self.versions.insert(bisect.bisect_right(keys, notice.effective_from), notice)

    def in_force(self, at: datetime) -> NoticeVersion | None:
        """The version in force at ``at``: the latest to take effect at or before it."""
        keys = [v.effective_from for v in self.versions]
        index = bisect.bisect_right(keys, at)
        return self.versions[index - 1] if index else None

    def get(self, version: str) -> NoticeVersion | None:
        """The version with this label, if published."""
        return next((v for v in self.versions if v.version == version), None)

    def __bool__(self) -> bool:
        return bool(self.versions)
