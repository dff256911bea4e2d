"""Findings at append time: judge each fresh line against the subject's history so far.

The judge loads, in one query, the stored streams of the subjects whose lines need
judging (disclosures and processing), keeps their basis facts and the recipients'
agreements up to date line by line as the batch goes on, and returns the
findings of each line; the application appends one ``FindingRecorded`` event per
finding right after the judged event, in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson

from ledger.appending.batch import ParsedLine
from ledger.domain.basis import BASIS_TYPES, Fact
from ledger.domain.findings import (
    Agreement,
    Agreements,
    Finding,
    judge_automated_decision,
    judge_basis,
    judge_disclosure,
)
from ledger.domain.register import NoticeHistory
from ledger.persistence.mapper import PydanticMapper, as_uuid
from schemas import events as ev

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent


JUDGED_TYPES = frozenset({"DataDisclosed", "ProfileDerived", "AutomatedDecisionMade"})


def fact(version: int, kind: str, occurred_at: datetime, recorded_at: datetime, data: Any) -> Fact:
    """A basis fact from an event's data (a model or a stored dict)."""
    values: dict[str, Any] = data if isinstance(data, dict) else data.model_dump()

    def get(name: str) -> Any:
        return values.get(name)

    expires = get("expires_at")
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    return Fact(
        version, kind, occurred_at, recorded_at, purpose=get("purpose"),
        controller=get("controller"), contract=get("contract"), expires_at=expires,
    )  # fmt: skip


@dataclass(slots=True)
class SubjectHistory:
    """What findings and retention need of a subject's stored stream."""

    facts: list[Fact] = field(default_factory=list)
    last_recorded: dict[str, datetime] = field(default_factory=dict)


def read_histories(
    rows: Iterable[StoredEvent], mapper: PydanticMapper
) -> defaultdict[UUID, SubjectHistory]:
    """Basis facts and the last recording time of each category, per stream.

    Reads stored states (upcast, values left sealed): nothing personal is opened.
    """
    out: defaultdict[UUID, SubjectHistory] = defaultdict(SubjectHistory)
    for row in rows:
        if row.topic not in BASIS_TYPES and row.topic not in ev.SEALED_TYPES:
            continue
        state = mapper.upcast(row.topic, orjson.loads(row.state))
        occurred = datetime.fromisoformat(state["occurred_at"])
        history = out[as_uuid(row.originator_id)]
        if row.topic in BASIS_TYPES:
            recorded = datetime.fromisoformat(state["recorded_at"])
            history.facts.append(
                fact(row.originator_version, row.topic, occurred, recorded, state["data"])
            )
        else:
            category = state["data"]["category"]
            history.last_recorded[category] = max(
                occurred, history.last_recorded.get(category, occurred)
            )
    return out


@dataclass(frozen=True, slots=True)
class Judged:
    """A finding about the line at ``number``, judged as stream version ``version``."""

    number: int
    subject: str | None
    type: str
    version: int
    finding: Finding

    def as_dict(self) -> dict[str, Any]:
        """The append output's shape."""
        return {
            "line": self.number, "type": self.type, "subject": self.subject,
            "rule": self.finding.rule, "message": self.finding.message,
            "purpose": self.finding.purpose, "recipient": self.finding.recipient,
        }  # fmt: skip


class Judge:
    """Keeps the state the findings need while a batch is turned into events."""

    def __init__(
        self,
        streams: Iterable[StoredEvent],
        mapper: PydanticMapper,
        fresh: list[ParsedLine],
        notices: NoticeHistory,
        agreements: Agreements,
    ) -> None:
        """``streams``: the stored events of (at least) the judged lines' subjects."""
        self.notices = notices
        self.agreements = Agreements({k: list(v) for k, v in agreements.history.items()})
        judged = {p.subject_id for p in fresh if p.line.type in JUDGED_TYPES and p.subject_id}
        rows = (r for r in streams if as_uuid(r.originator_id) in judged)
        histories = read_histories(rows, mapper)
        self.facts: dict[UUID, list[Fact]] = {sid: histories[sid].facts for sid in judged}

    def observe(self, p: ParsedLine, version: int, now: datetime) -> list[Finding]:
        """Take in one line stored as ``version`` of its stream; its findings."""
        line, at = p.line, p.occurred_at
        if isinstance(line, ev.RecipientRegisteredLine):
            self.agreements.add(line.data.id, Agreement(at, line.data, version))
        elif isinstance(line, ev.RecipientEndedLine):
            self.agreements.add(line.data.id, Agreement(at, None, version))
        elif line.type in BASIS_TYPES and p.subject_id in self.facts:
            self.facts[p.subject_id].append(fact(version, line.type, at, now, line.data))
        if line.type not in JUDGED_TYPES or p.subject_id is None:
            return []
        facts = self.facts.get(p.subject_id, [])
        found: list[Finding | None] = []
        if isinstance(line, ev.DataDisclosedLine):
            d = line.data
            found.append(
                judge_disclosure(d.recipient, d.purpose, at, self.notices, self.agreements)
            )
        if isinstance(line, ev.AutomatedDecisionMadeLine):
            found.append(judge_automated_decision(self.notices, at))
        basis = judge_basis(facts, self.notices, line.data.purpose, at)
        if basis is not None and isinstance(line, ev.DataDisclosedLine):
            basis = replace(basis, recipient=line.data.recipient)
        found.append(basis)
        return [f for f in found if f is not None]


def finding_data(finding: Finding, kind: str, version: int) -> ev.FindingRecordedData:
    """The FindingRecorded event's data."""
    return ev.FindingRecordedData(
        rule=finding.rule,
        message=finding.message,
        event=ev.FindingEvidence(version=version, type=kind),
        evidence=tuple(
            ev.FindingEvidence(version=e.position, type=e.type) for e in finding.evidence
        ),
        purpose=finding.purpose,
        recipient=finding.recipient,
        notice_version=finding.notice_version,
    )
