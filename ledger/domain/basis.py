"""Lawful-basis intervals: pure functions over a subject's basis facts and the notices.

Bases are per controller (GDPR Art. 26): a purpose belongs to the controllers its
register entry names (``Purpose.controllers``, empty: all of them), and a fact
with a controller counts only for that controller (a consent, withdrawal or
objection without one counts for every controller of the purpose). For one
subject, purpose and controller, each basis holds over intervals [since, until):

* consent: from a grant to the first of its withdrawal, its expiry, an erasure
  request of the subject (``SubjectErased`` of scope ``subject``, Art. 17(1)(b)) or
  a *stop*; only while the notice in force lists the purpose with consent and the
  controller;
* contract: while a contract with that controller runs and the notice in force
  allows the contract basis for the purpose and the controller; a stop ends it for
  good;
* legal_obligation: after a period of that controller's contracts ends, for as
  long as the longest statutory retention rule counted from a contract's end keeps
  the data (e.g. billing records for 10 years under the Accounting Act), when the
  purpose allows that basis; a stop ends it too.

A *stop* ends every basis of a purpose from its instant (Art. 21(2)-(3)). For a
direct-marketing purpose (``Purpose.direct_marketing``) the stops are an objection
to it, a withdrawal of consent to it (a DPO treats it as the objection it is) and
an erasure request; for a purpose with ``ends_with_objection_to`` (profiling
related to marketing), also an objection to, or a consent withdrawal for, each
direct-marketing purpose listed. A consent granted after a stop starts a new
consent interval: it is the subject's later, explicit choice. Each interval ended
by an event names it (``ended_by``). Late-recorded facts need no special case: the
caller passes the facts known at ``known_at`` and the intervals follow from them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ledger.domain.register import NoticeHistory, NoticeVersion
from schemas.register import LegalBasis, RegisterDefinition, RetentionRule

BASIS_TYPES = frozenset(
    {"ContractStarted", "ContractEnded", "ConsentGranted", "ConsentWithdrawn", "ObjectionRecorded"}
)
"""The event types a lawful basis rests on (a Fact is made from each)."""

ERASURE = "SubjectErased"
"""An erasure request of the whole subject (scope ``subject``) is a basis fact too:
it ends consent and, for direct marketing, every basis. Callers keep only those."""

STOP_TYPES = frozenset({"ObjectionRecorded", "ConsentWithdrawn"})

RESTRICTED = "ProcessingRestricted"
LIFTED = "RestrictionLifted"
RESTRICTION_TYPES = frozenset({RESTRICTED, LIFTED})
"""Art. 18: while a restriction stands, the data may only be stored. A restriction is
no basis fact: the bases stay as they are, processing is restricted beside them."""


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
    withdrawn_by: str | None = None
    """A ConsentWithdrawn's withdrawer (None: the subject). Lawfulness ignores it: a
    revocation by anyone else ends a consent exactly as the subject's withdrawal does."""

    def counts_for(self, controller: str) -> bool:
        """Whether the fact concerns this controller (no controller: every controller)."""
        return self.controller is None or self.controller == controller


@dataclass(frozen=True, slots=True)
class Evidence:
    """An event an interval rests on."""

    position: int
    type: str
    withdrawn_by: str | None = None
    """Who withdrew, for a ConsentWithdrawn that someone else than the subject made."""


def evidence_of(fact: Fact) -> Evidence:
    """The fact as evidence, keeping who withdrew a consent when it was not the subject."""
    return Evidence(fact.position, fact.type, fact.withdrawn_by)


@dataclass(slots=True)
class Interval:
    """One basis holding over [since, until); until None means still holding."""

    basis: str
    since: datetime
    until: datetime | None
    evidence: list[Evidence] = field(default_factory=list)
    controller: str | None = None
    ended_by: Evidence | None = None

    def holds_at(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the interval."""
        return self.since <= at and (self.until is None or at < self.until)


@dataclass(frozen=True, slots=True)
class Restriction:
    """A ``ProcessingRestricted`` or ``RestrictionLifted`` of one subject.

    ``categories`` None: all of the subject's data; ``controller`` None: every controller.
    """

    position: int
    type: str
    occurred_at: datetime
    categories: tuple[str, ...] | None = None
    controller: str | None = None

    def covers(self, category: str, controller: str | None) -> bool:
        """Whether it concerns ``category`` of ``controller`` (None: any controller)."""
        return (self.categories is None or category in self.categories) and (
            self.controller is None or controller is None or self.controller == controller
        )


def restricted_at(
    restrictions: Iterable[Restriction],
    categories: Iterable[str],
    controller: str | None,
    at: datetime,
) -> dict[str, Evidence]:
    """Each of ``categories`` whose processing is restricted at ``at``, with the restriction.

    A category is restricted when the latest restriction or lift concerning it at or
    before ``at`` (by occurred_at, then position) is a ``ProcessingRestricted``: a lift
    of all data ends every restriction, a lift of some categories only theirs.
    """
    ordered = sorted(restrictions, key=lambda r: (r.occurred_at, r.position))
    out: dict[str, Evidence] = {}
    for category in dict.fromkeys(categories):
        standing: Evidence | None = None
        for r in ordered:
            if r.occurred_at > at:
                break
            if r.covers(category, controller):
                standing = Evidence(r.position, r.type) if r.type == RESTRICTED else None
        if standing is not None:
            out[category] = standing
    return out


def add_period(start: datetime, years: int, months: int, days: int) -> datetime:
    """``start`` plus a calendar period; the 29th of February becomes the 28th."""
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    moved = start.replace(year=year, month=month, day=day)
    return moved + timedelta(days=days)


HELSINKI = ZoneInfo("Europe/Helsinki")
"""The register's calendar: a year ends at midnight in Finland, not in UTC."""


def retention_end(rule: RetentionRule, start: datetime) -> datetime:
    """When a retention period counted from ``start`` ends (UTC).

    ``end_of_year``: from the first instant of the next calendar year in Helsinki,
    the period added in Helsinki's calendar (so it ends at a local midnight). The
    one rule for retention answers and for the legal-obligation basis alike.
    """
    if not rule.end_of_year:
        return add_period(start, *rule.period_parts)
    year_end = datetime(start.astimezone(HELSINKI).year + 1, 1, 1, tzinfo=HELSINKI)
    return add_period(year_end, *rule.period_parts).astimezone(UTC)


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (f.occurred_at, f.position))


Segment = tuple[datetime, datetime | None]
"""[since, until) over which the notices in force allow a basis (until None: open)."""


def _segments(
    notices: Sequence[NoticeVersion], purpose: str, basis: LegalBasis, controller: str
) -> list[Segment]:
    """Where the notice in force lets ``controller``'s ``purpose`` rest on ``basis``."""
    out: list[Segment] = []
    for i, notice in enumerate(notices):
        found = notice.definition.purpose(purpose)
        if found is None or basis not in found.bases:
            continue
        if controller not in notice.definition.controllers_of(purpose):
            continue
        until = notices[i + 1].effective_from if i + 1 < len(notices) else None
        if out and out[-1][1] == notice.effective_from:
            out[-1] = (out[-1][0], until)
        else:
            out.append((notice.effective_from, until))
    return out


def _clip(intervals: list[Interval], segments: Sequence[Segment]) -> list[Interval]:
    out: list[Interval] = []
    for interval in intervals:
        for start, end in segments:
            since = max(interval.since, start)
            ends = [t for t in (interval.until, end) if t is not None]
            until = min(ends) if ends else None
            if until is None or since < until:
                ended_by = interval.ended_by if until == interval.until else None
                out.append(
                    Interval(interval.basis, since, until, list(interval.evidence),
                             interval.controller, ended_by)
                )  # fmt: skip
    return out


def _is_direct_marketing(notices: Sequence[NoticeVersion], purpose: str | None) -> bool:
    return purpose is not None and any(
        (p := n.definition.purpose(purpose)) is not None and p.direct_marketing for n in notices
    )


def _linked(notices: Sequence[NoticeVersion], purpose: str) -> set[str]:
    """The purposes whose objection also ends ``purpose`` (in any notice version)."""
    out: set[str] = set()
    for notice in notices:
        found = notice.definition.purpose(purpose)
        if found is not None:
            out.update(found.ends_with_objection_to)
    return out


def controllers_of(notices: Sequence[NoticeVersion], purpose: str) -> list[str]:
    """Every controller the purpose belongs to in some notice version, in register order."""
    out: list[str] = []
    for notice in notices:
        out += [c for c in notice.definition.controllers_of(purpose) if c not in out]
    return out


def stops(
    facts: Sequence[Fact], notices: Sequence[NoticeVersion], purpose: str, controller: str
) -> list[Fact]:
    """The facts that end every basis of ``purpose`` for ``controller`` (see the module)."""
    rules = BasisRules(notices)
    return _stops(facts, rules.terms(purpose, controller), rules)


def _stops(facts: Iterable[Fact], terms: PurposeTerms, rules: BasisRules) -> list[Fact]:
    purpose, controller = terms.purpose, terms.controller
    out: list[Fact] = []
    for f in facts:
        if not f.counts_for(controller):
            continue
        if f.type == ERASURE:
            if terms.marketing:
                out.append(f)
        elif f.type in STOP_TYPES and (
            (f.purpose == purpose and terms.marketing)
            or (
                f.purpose in terms.linked
                and (f.type == "ObjectionRecorded" or rules.direct_marketing(f.purpose))
            )
        ):
            out.append(f)
    return out


def _after(fact: Fact, other: Fact) -> bool:
    return (fact.occurred_at, fact.position) > (other.occurred_at, other.position)


def consent_intervals(
    facts: list[Fact], purpose: str, controller: str, ending: Sequence[Fact] = ()
) -> list[Interval]:
    """One interval per grant, ended by withdrawal, expiry, erasure request or a stop."""
    out: list[Interval] = []
    for grant in facts:
        if (
            grant.type != "ConsentGranted"
            or grant.purpose != purpose
            or not grant.counts_for(controller)
        ):
            continue
        evidence = [Evidence(grant.position, grant.type)]
        ends: list[tuple[datetime, Evidence | None]] = []
        if grant.expires_at is not None:
            ends.append((grant.expires_at, None))
        for f in facts:
            if not _after(f, grant) or not f.counts_for(controller):
                continue
            if (f.type == "ConsentWithdrawn" and f.purpose == purpose) or f.type == ERASURE:
                ends.append((f.occurred_at, evidence_of(f)))
                break
        stop = next((f for f in ending if _after(f, grant)), None)
        if stop is not None:
            ends.append((stop.occurred_at, evidence_of(stop)))
        until, ended_by = None, None
        if ends:
            until, ended_by = min(ends, key=lambda e: e[0])
            if ended_by is not None:
                evidence.append(ended_by)
        out.append(
            Interval(LegalBasis.CONSENT.value, grant.occurred_at, until, evidence,
                     controller, ended_by)
        )  # fmt: skip
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
            span.ended_by = Evidence(fact.position, fact.type)
            span.evidence.append(span.ended_by)
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
                last.ended_by = interval.ended_by
            last.evidence += interval.evidence
        else:
            out.append(
                Interval(interval.basis, interval.since, interval.until, list(interval.evidence),
                         interval.controller, interval.ended_by)
            )  # fmt: skip
    return out


def legal_obligation_intervals(
    contracts: list[Interval], notices: Sequence[NoticeVersion]
) -> list[Interval]:
    """After each period of contracts ends, while a statutory retention hold runs."""
    return BasisRules(notices).legal_obligation(contracts)


def _statutory_holds(definition: RegisterDefinition) -> list[RetentionRule]:
    return [r for r in definition.retention if r.starts == "contract_ended" and r.legal_reference]


def basis_intervals(
    facts: Iterable[Fact],
    notices: Sequence[NoticeVersion],
    purpose: str,
    controller: str | None = None,
) -> list[Interval]:
    """Every interval of every basis for one subject and purpose, in time order.

    ``controller``: that controller's intervals only; None: those of every
    controller the purpose belongs to, each interval naming its controller.
    """
    return BasisRules(notices).intervals(facts, purpose, controller)


def under_wrong_notice(fact: Fact, notices: Sequence[NoticeVersion]) -> bool:
    """A grant naming a notice version other than the one in force at its instant.

    Such a consent is not informed by the notice its processing runs under (Art.
    4(11), 7(1)): it is recorded, flagged ``consent_under_wrong_notice`` and is no
    basis.
    """
    return BasisRules(notices).under_wrong_notice(fact)


class PurposeTerms(NamedTuple):
    """What the notices say of one purpose for one controller, as its intervals need.

    A named tuple: made for every purpose of every ``basis_intervals`` call.
    """

    purpose: str
    controller: str
    consent: tuple[Segment, ...]
    contract: tuple[Segment, ...]
    legal_obligation: tuple[Segment, ...]
    marketing: bool
    """Direct marketing in some notice version: a withdrawal or an erasure request stops it."""
    linked: frozenset[str]
    """The purposes whose objection also ends this one (``ends_with_objection_to``)."""


class BasisRules:
    """The notices as basis intervals read them, worked out once per purpose and controller.

    What an interval takes from the notices alone (where a basis is allowed, which
    purposes are direct marketing or end with an objection, the notice in force at
    an instant) is the same for every subject: a caller that works out many
    subjects' intervals under the same notices (the append judge) keeps one and
    asks it each time. ``basis_intervals`` builds one per call. The notices are
    copied: a version published later needs a new ``BasisRules``.
    """

    def __init__(self, notices: Sequence[NoticeVersion]) -> None:
        """Read ``notices`` in the order given (segments follow it, as ever)."""
        self.notices: tuple[NoticeVersion, ...] = tuple(notices)
        self._history: NoticeHistory | None = None
        self._terms: dict[tuple[str, str], PurposeTerms] = {}
        self._controllers: dict[str, list[str]] = {}
        self._marketing: dict[str, bool] = {}

    def in_force(self, at: datetime) -> NoticeVersion | None:
        """The version in force at ``at``."""
        if self._history is None:
            self._history = NoticeHistory(list(self.notices))
        return self._history.in_force(at)

    def direct_marketing(self, purpose: str) -> bool:
        """Whether ``purpose`` is direct marketing in some notice version."""
        found = self._marketing.get(purpose)
        if found is None:
            found = self._marketing[purpose] = _is_direct_marketing(self.notices, purpose)
        return found

    def controllers_of(self, purpose: str) -> list[str]:
        """``controllers_of`` these notices (do not change the list)."""
        found = self._controllers.get(purpose)
        if found is None:
            found = self._controllers[purpose] = controllers_of(self.notices, purpose)
        return found

    def terms(self, purpose: str, controller: str) -> PurposeTerms:
        """What the notices say of ``purpose`` for ``controller``."""
        found = self._terms.get((purpose, controller))
        if found is None:
            notices = self.notices
            found = PurposeTerms(
                purpose, controller,
                consent=tuple(_segments(notices, purpose, LegalBasis.CONSENT, controller)),
                contract=tuple(_segments(notices, purpose, LegalBasis.CONTRACT, controller)),
                legal_obligation=tuple(
                    _segments(notices, purpose, LegalBasis.LEGAL_OBLIGATION, controller)
                ),
                marketing=self.direct_marketing(purpose),
                linked=frozenset(_linked(notices, purpose)),
            )  # fmt: skip
            self._terms[(purpose, controller)] = found
        return found

    def under_wrong_notice(self, fact: Fact) -> bool:
        """``under_wrong_notice`` these notices."""
        if fact.type != "ConsentGranted" or fact.notice_version is None:
            return False
        notice = self.in_force(fact.occurred_at)
        return notice is not None and notice.version != fact.notice_version

    def legal_obligation(self, contracts: list[Interval]) -> list[Interval]:
        """``legal_obligation_intervals`` under these notices."""
        out: list[Interval] = []
        for span in contracts:
            if span.until is None:
                continue
            notice = self.in_force(span.until)
            rules = [] if notice is None else _statutory_holds(notice.definition)
            if not rules:
                continue
            until = max(retention_end(rule, span.until) for rule in rules)
            ended = [e for e in span.evidence if e.type == "ContractEnded"]
            out.append(Interval(LegalBasis.LEGAL_OBLIGATION.value, span.until, until, ended))
        return out

    def intervals(
        self, facts: Iterable[Fact], purpose: str, controller: str | None = None
    ) -> list[Interval]:
        """``basis_intervals`` under these notices (fresh intervals each call)."""
        ordered = _ordered(facts)
        informed = [f for f in ordered if not self.under_wrong_notice(f)]
        wanted = [controller] if controller is not None else self.controllers_of(purpose)
        out: list[Interval] = []
        for who in wanted:
            out += self._controller_intervals(ordered, informed, self.terms(purpose, who))
        return sorted(out, key=lambda i: (i.since, i.basis, i.controller or ""))

    def _controller_intervals(
        self, ordered: list[Fact], informed: list[Fact], terms: PurposeTerms
    ) -> list[Interval]:
        controller = terms.controller
        ending = _stops(ordered, terms, self)
        consent = _clip(
            consent_intervals(informed, terms.purpose, controller, ending), terms.consent
        )
        spans = contract_spans([f for f in ordered if f.controller == controller])
        contract = _clip(spans, terms.contract)
        legal = _clip(self.legal_obligation(spans), terms.legal_obligation)
        out = consent + _cut_at(contract + legal, ending[0] if ending else None)
        for interval in out:
            interval.controller = controller
        return out


def _cut_at(intervals: list[Interval], stop: Fact | None) -> list[Interval]:
    """Intervals ended for good at ``stop`` (dropped when they would start after it)."""
    if stop is None:
        return intervals
    out: list[Interval] = []
    for interval in intervals:
        if interval.until is not None and interval.until <= stop.occurred_at:
            out.append(interval)
        elif interval.since < stop.occurred_at:
            ended_by = evidence_of(stop)
            out.append(
                Interval(interval.basis, interval.since, stop.occurred_at,
                         [*interval.evidence, ended_by], interval.controller, ended_by)
            )  # fmt: skip
    return out
