"""What an append call answers, and the bookkeeping that splits one transaction's answer.

``AppendResult`` is the contract's answer; ``Written`` is what one transaction wrote,
``GroupRequest`` one caller's share of a group commit; ``Recorded`` an event the
ledger writes itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ledger.appending.batch import ParsedLine
from ledger.appending.judging import Judged
from ledger.errors import BatchRejected, Violation


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The contract's answer to an append call."""

    appended: int
    duplicates: int
    last_position: int | None
    findings: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON shape."""
        return {
            "appended": self.appended,
            "duplicates": self.duplicates,
            "last_position": self.last_position,
            "findings": list(self.findings),
        }


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event the ledger writes itself (not an appended line): ``Ledger.record_many``."""

    stream: UUID
    topic: str
    data: BaseModel
    occurred_at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class Written:
    """What one transaction wrote: line numbers own stored positions and findings."""

    parsed: list[ParsedLine]
    ids: tuple[int, ...]
    owners: tuple[int, ...]
    """The line number of each id's event (a finding belongs to the line judged)."""
    judged: tuple[Judged, ...]

    def result(self, first: int, last: int, *, renumber: int = 0) -> AppendResult:
        """The answer for lines ``first``..``last``, numbered from ``first - renumber``."""
        parsed = self.parsed
        if not renumber and parsed and _all_within(parsed, first, last):
            # The whole call (append_batch): every id, finding and line is asked for,
            # the owners and findings being the parsed lines' (``Ledger._stored_chunks``).
            fresh_lines = len(set(self.owners))
            return AppendResult(
                fresh_lines,
                len(parsed) - fresh_lines,
                max(self.ids) if self.ids else None,
                tuple(j.as_dict() for j in self.judged),
            )
        fresh = {n for n in self.owners if first <= n <= last}
        lines = sum(1 for p in self.parsed if first <= p.number <= last)
        positions = [i for i, n in zip(self.ids, self.owners, strict=True) if first <= n <= last]
        findings = tuple(
            {**j.as_dict(), "line": j.number - renumber}
            for j in self.judged
            if first <= j.number <= last
        )
        return AppendResult(
            len(fresh), lines - len(fresh), max(positions) if positions else None, findings
        )


def _all_within(parsed: list[ParsedLine], first: int, last: int) -> bool:
    """Whether every parsed line is numbered within ``first``..``last``."""
    if len(parsed) == 1:
        return first <= parsed[0].number <= last
    numbers = [p.number for p in parsed]
    return first <= min(numbers) and max(numbers) <= last


@dataclass(frozen=True, slots=True)
class GroupRequest:
    """One caller's lines in a group append, numbered ``first + 1``..``last`` within it."""

    index: int
    first: int
    last: int
    parsed: list[ParsedLine]

    def holds(self, number: int) -> bool:
        """Whether a line number of the group is this request's."""
        return self.first < number <= self.last

    def rejected(self, violations: Iterable[Violation]) -> BatchRejected:
        """This request's refusal, its lines numbered from 1."""
        own = [replace(v, line=v.line - self.first) for v in violations if self.holds(v.line)]
        return BatchRejected(own)
