"""What the ledger answers: append results, refused lines, audit trail entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from schemas.base import Frozen


class RefusedLine(Frozen):
    """One problem with one input line (stderr of a refused call, exit 3)."""

    line: int = Field(description="1-based line number in the call's input.")
    type: str | None = Field(description="The line's event type, if it had one.")
    field: str | None = Field(description="Dotted path of the offending field.")
    rule: str = Field(description="The rule code (see ARCHITECTURE.md).")
    message: str


class AppendAnswer(Frozen):
    """``ledger append`` output."""

    appended: int
    duplicates: int
    last_position: int | None
    findings: list[dict[str, Any]]
    committed_lines: int | None = Field(
        None,
        description="With --batch-size, when a batch was refused: lines committed before it.",
    )
    stopped_at_line: int | None = Field(
        None,
        description="With --batch-size, when a batch was refused: first line not committed.",
    )


class TrailEntry(Frozen):
    """One event of a subject's audit trail."""

    position: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str | None


class TrailAnswer(Frozen):
    """``ledger trail --json`` output."""

    subject: str
    events: list[TrailEntry]


ANSWERS: tuple[type[BaseModel], ...] = (RefusedLine, AppendAnswer, TrailAnswer)
