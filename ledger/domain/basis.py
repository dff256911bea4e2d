"""Lawful-basis intervals: pure functions over a subject's basis facts and the notices.

For one subject and purpose, each basis holds over intervals [since, until):

* consent: from a grant to the first of its withdrawal, its expiry or an objection to
  a direct-marketing purpose; only while the notice in force lists the purpose with
  consent as a basis;
* contract: while any contract with a controller runs, while the notice in force
  allows the contract basis for the purpose; an objection to a direct-marketing
  purpose ends it for good;
* legal_obligation: after a contract ends, for as long as the longest statutory
  retention rule counted from a contract's end keeps the data (e.g. billing records
  for 10 years under the Accounting Act), when the purpose allows that basis.

A consent granted after an objection starts a new consent interval: it is the
subject's later, explicit choice. Late-recorded facts need no special case: the
caller passes the facts known at ``known_at`` and the intervals follow from them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ledger.domain.register import NoticeHistory, NoticeVersion
from schemas.register import LegalBasis, RegisterDefinition, RetentionRule

BASIS_TYPES = frozenset(
    {"ContractStarted", "ContractEnded", "ConsentGranted", "ConsentWithdrawn", "ObjectionRecorded"}
)
"""The event types a lawful basis rests on (a Fact is made from each)."""


@dataclass(frozen=True, slots=True)
class Fact:
    """A basis-relevant event of one subject, as the lawful-basis view keeps it."""

    position: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    purpose: str | None = None
    controller: str | None = None
    contract: str | None = None
    notice_version: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """An event an interval rests on."""

    position: int
    type: str


@dataclass(slots=True)
class Interval:
    """One basis holding over [since, until); until None means still holding."""

    basis: str
    since: datetime
    until: datetime | None
    evidence: list[Evidence] = field(default_factory=list)

    def holds_at(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the interval."""
        return self.since <= at and (self.until is None or at < self.until)


def add_period(start: datetime, years: int, months: int, days: int) -> datetime:
    """``start`` plus a calendar period; the 29th of February becomes the 28th."""
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    moved = start.replace(year=year, month=month, day=day)
    return moved + timedelta(days=days)


def retention_end(rule: RetentionRule, start: datetime) -> datetime:
    """When a retention period counted from ``start`` ends."""
    if rule.end_of_year:
        start = datetime(start.astimezone(UTC).year + 1, 1, 1, tzinfo=UTC)
    return add_period(start, *rule.period_parts)


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (f.occurred_at, f.position))


def _segments(
    notices: Sequence[NoticeVersion], purpose: str, basis: LegalBasis
) -> list[tuple[datetime, datetime | None]]:
    """Where the notice in force lets ``purpose`` rest on ``basis``."""
    out: list[tuple[datetime, datetime | None]] = []
    for i, notice in enumerate(notices):
        found = notice.definition.purpose(purpose)
        if found is None or basis not in found.bases:
            continue
        until = notices[i + 1].effective_from if i + 1 < len(notices) else None
        if out and out[-1][1] == notice.effective_from:
            out[-1] = (out[-1][0], until)
        else:
            out.append((notice.effective_from, until))
    return out


def _clip(
    intervals: list[Interval], segments: list[tuple[datetime, datetime | None]]
) -> list[Interval]:
    out: list[Interval] = []
    for interval in intervals:
        for start, end in segments:
            since = max(interval.since, start)
            ends = [t for t in (interval.until, end) if t is not None]
            until = min(ends) if ends else None
            if until is None or since < until:
                out.append(Interval(interval.basis, since, until, list(interval.evidence)))
    return out


def _is_direct_marketing(notices: Sequence[NoticeVersion], purpose: str) -> bool:
    return any(
        (p := n.definition.purpose(purpose)) is not None and p.direct_marketing for n in notices
    )


def _first_objection(facts: list[Fact], purpose: str, after: datetime) -> Fact | None:
    return next(
        (
            f
            for f in facts
            if f.type == "ObjectionRecorded" and f.purpose == purpose and f.occurred_at >= after
        ),
        None,
    )


def consent_intervals(facts: list[Fact], purpose: str, direct_marketing: bool) -> list[Interval]:
    """One interval per grant, ended by withdrawal, expiry or objection."""
    out: list[Interval] = []
    for grant in facts:
        if grant.type != "ConsentGranted" or grant.purpose != purpose:
            continue
        evidence = [Evidence(grant.position, grant.type)]
        ends: list[tuple[datetime, Evidence | None]] = []
        if grant.expires_at is not None:
            ends.append((grant.expires_at, None))
        withdrawal = next(
            (
                f
                for f in facts
                if f.type == "ConsentWithdrawn"
                and f.purpose == purpose
                and (f.occurred_at, f.position) > (grant.occurred_at, grant.position)
            ),
            None,
        )
        if withdrawal is not None:
            ends.append((withdrawal.occurred_at, Evidence(withdrawal.position, withdrawal.type)))
        objection = (
            _first_objection(facts, purpose, grant.occurred_at) if direct_marketing else None
        )
        if objection is not None:
            ends.append((objection.occurred_at, Evidence(objection.position, objection.type)))
        until = None
        if ends:
            until, ended_by = min(ends, key=lambda e: e[0])
            if ended_by is not None:
                evidence.append(ended_by)
        out.append(Interval(LegalBasis.CONSENT.value, grant.occurred_at, until, evidence))
    return out


def contract_spans(facts: list[Fact]) -> list[Interval]:
    """Each contract from its start to its end (or open), any controller."""
    spans: dict[tuple[str | None, str | None], Interval] = {}
    out: list[Interval] = []
    for fact in facts:
        key = (fact.controller, fact.contract)
        if fact.type == "ContractStarted" and key not in spans:
            spans[key] = Interval(LegalBasis.CONTRACT.value, fact.occurred_at, None,
                                  [Evidence(fact.position, fact.type)])  # fmt: skip
        elif fact.type == "ContractEnded" and key in spans:
            span = spans.pop(key)
            span.until = fact.occurred_at
            span.evidence.append(Evidence(fact.position, fact.type))
            out.append(span)
    return _merge(out + list(spans.values()))


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Union of overlapping or touching intervals, evidence joined."""
    out: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.since):
        last = out[-1] if out else None
        if last is not None and (last.until is None or interval.since <= last.until):
            if last.until is not None and (interval.until is None or interval.until > last.until):
                last.until = interval.until
            last.evidence += interval.evidence
        else:
            out.append(
                Interval(interval.basis, interval.since, interval.until, list(interval.evidence))
            )
    return out


def legal_obligation_intervals(
    contracts: list[Interval], notices: Sequence[NoticeVersion]
) -> list[Interval]:
    """After each period of contracts ends, while a statutory retention hold runs."""
    out: list[Interval] = []
    for span in contracts:
        if span.until is None:
            continue
        notice = _in_force(notices, span.until)
        rules = [] if notice is None else _statutory_holds(notice.definition)
        if not rules:
            continue
        until = max(retention_end(rule, span.until) for rule in rules)
        ended = [e for e in span.evidence if e.type == "ContractEnded"]
        out.append(Interval(LegalBasis.LEGAL_OBLIGATION.value, span.until, until, ended))
    return out


def _statutory_holds(definition: RegisterDefinition) -> list[RetentionRule]:
    return [r for r in definition.retention if r.starts == "contract_ended" and r.legal_reference]


def _in_force(notices: Sequence[NoticeVersion], at: datetime) -> NoticeVersion | None:
    return NoticeHistory(list(notices)).in_force(at)


def basis_intervals(
    facts: Iterable[Fact], notices: Sequence[NoticeVersion], purpose: str
) -> list[Interval]:
    """Every interval of every basis for one subject and purpose, in time order."""
    ordered = _ordered(facts)
    marketing = _is_direct_marketing(notices, purpose)
    consent = _clip(
        consent_intervals(ordered, purpose, marketing),
        _segments(notices, purpose, LegalBasis.CONSENT),
    )
    spans = contract_spans(ordered)
    contract = _clip(spans, _segments(notices, purpose, LegalBasis.CONTRACT))
    if marketing:
        contract = _cut_at_objection(contract, ordered, purpose)
    legal = _clip(
        legal_obligation_intervals(spans, notices),
        _segments(notices, purpose, LegalBasis.LEGAL_OBLIGATION),
    )
    return sorted(consent + contract + legal, key=lambda i: (i.since, i.basis))


def _cut_at_objection(intervals: list[Interval], facts: list[Fact], purpose: str) -> list[Interval]:
    objection = _first_objection(facts, purpose, datetime.min.replace(tzinfo=UTC))
    out: list[Interval] = []
    for interval in intervals:
        if objection is None or (
            interval.until is not None and interval.until <= objection.occurred_at
        ):
            out.append(interval)
        elif interval.since < objection.occurred_at:
            out.append(
                Interval(interval.basis, interval.since, objection.occurred_at,
                         [*interval.evidence, Evidence(objection.position, objection.type)])
            )  # fmt: skip
    return out
