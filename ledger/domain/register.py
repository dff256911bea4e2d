"""Which version of the register (the privacy notice) was in force when."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from schemas.register import Category, Purpose, RegisterDefinition, RetentionRule


@dataclass(frozen=True, slots=True)
class RegisterIndex:
    """A definition's ids as look-up tables, built once per version (rules run per line)."""

    purposes: dict[str, Purpose]
    categories: dict[str, Category]
    sources: frozenset[str]
    controllers: frozenset[str]
    recipients: frozenset[str]
    retention: dict[str, RetentionRule]

    @classmethod
    def of(cls, definition: RegisterDefinition) -> RegisterIndex:
        """Index a definition."""
        return cls(
            purposes={p.id: p for p in definition.purposes},
            categories={c.id: c for c in definition.categories},
            sources=frozenset(s.id for s in definition.sources),
            controllers=frozenset(c.business_id for c in definition.controllers),
            recipients=frozenset(r.id for r in definition.recipients),
            retention={r.category: r for r in definition.retention},
        )


@dataclass(frozen=True, slots=True)
class NoticeVersion:
    """One published version of the register definition."""

    version: str
    effective_from: datetime
    definition: RegisterDefinition
    digest: str
    position: int | None = None
    index: RegisterIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", RegisterIndex.of(self.definition))


@dataclass(slots=True)
class NoticeHistory:
    """Published notice versions, ordered by the instant they take effect."""

    versions: list[NoticeVersion] = field(default_factory=list)
    _starts: list[datetime] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.versions = sorted(self.versions, key=lambda v: v.effective_from)
        self._starts = [v.effective_from for v in self.versions]

    def add(self, notice: NoticeVersion) -> None:
        """Take in a newly published version."""
        index = bisect.bisect_right(self._starts, notice.effective_from)
        self.versions.insert(index, notice)
        self._starts.insert(index, notice.effective_from)

    def in_force(self, at: datetime) -> NoticeVersion | None:
        """The version in force at ``at``: the latest to take effect at or before it."""
        index = bisect.bisect_right(self._starts, at)
        return self.versions[index - 1] if index else None

    def get(self, version: str) -> NoticeVersion | None:
        """The version with this label, if published."""
        return next((v for v in self.versions if v.version == version), None)

    def __bool__(self) -> bool:
        return bool(self.versions)
