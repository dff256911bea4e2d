"""Findings at append time: judge each fresh line against the subject's history so far.

The judge loads, in one query, the stored streams of the subjects whose lines need
judging (disclosures, processing, recorded personal data), keeps their basis facts,
erasures and the recipients' agreements up to date line by line as the batch goes
on (restrictions of processing too), and returns the findings of each line; the
application appends one ``FindingRecorded`` event per finding right after the judged
event, in the same transaction.

A line that can end a basis or restrict processing (``LATE_TYPES``) has its
subject's stream read too: when it occurred before uses already judged (stored, or
earlier in the batch), ``Judge.revise`` judges those uses again against the history
now known, and each new finding is appended after the late line, naming the use it
revises and the late line (``revises``, ``because``). A grant (``GRANT_TYPES``) recorded
late can make such a use lawful: each basis finding of it is lifted by a
``finding_lifted`` finding appended the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson

from ledger.appending.batch import ParsedLine
from ledger.domain.basis import (
    BASIS_TYPES,
    ERASURE,
    RESTRICTION_TYPES,
    BasisRules,
    Fact,
    Interval,
    Restriction,
)
from ledger.domain.findings import (
    BASIS_RULES,
    LIFTED,
    Agreement,
    Agreements,
    Erasure,
    Finding,
    Use,
    judge_again,
    judge_automated_decision,
    judge_basis,
    judge_consent_notice,
    judge_disclosure,
    judge_erased_use,
    judge_lifts,
    judge_recorded_after_erasure,
    judge_restriction,
)
from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.persistence.mapper import PydanticMapper, as_uuid
from schemas import dpv
from schemas import events as ev

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent


JUDGED_TYPES = frozenset(
    {"DataDisclosed", "DataProcessed", "ProfileDerived", "AutomatedDecisionMade",
     "PersonalDataRecorded"}
)  # fmt: skip
"""Lines judged against their subject's stored stream (which is then read)."""

GRANT_TYPES = frozenset({"ConsentGranted", "ContractStarted"})
"""Lines that can make uses judged before them lawful when they occurred earlier than
those uses: a basis finding of such a use is lifted (``judge_lifts``)."""

LATE_TYPES = (
    frozenset({"ConsentWithdrawn", "ObjectionRecorded", "ContractEnded", "ProcessingRestricted"})
    | GRANT_TYPES
)
"""Lines that can make uses judged before them unlawful (or, ``GRANT_TYPES``, lawful) when
they occurred earlier than those uses: their subject's stored stream is read too, and the
later uses judged again."""

USE_TYPES = JUDGED_TYPES - {"PersonalDataRecorded"}
"""Judged lines that use the subject's data for a purpose (judged again after a late fact)."""

FINDING = "FindingRecorded"

_READ_TOPICS = BASIS_TYPES | ev.SEALED_TYPES | RESTRICTION_TYPES | USE_TYPES | {ERASURE, FINDING}
"""The stored types ``read_histories`` folds in; it skips every other row unread."""


def _getter(data: Any) -> Callable[[str], Any]:
    """A field of an event's data by name, None when absent (a stored dict or a model).

    A model's attributes are what its ``model_dump()`` holds, without building the dict.
    """
    if isinstance(data, dict):
        return data.get
    return lambda name: getattr(data, name, None)


def fact(version: int, kind: str, occurred_at: datetime, recorded_at: datetime, data: Any) -> Fact:
    """A basis fact from an event's data (a model or a stored dict)."""
    get = _getter(data)
    expires = get("expires_at")
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    return Fact(
        version, kind, occurred_at, recorded_at, purpose=get("purpose"),
        controller=get("controller"), contract=get("contract"), expires_at=expires,
        notice_version=get("notice_version"),
    )  # fmt: skip


@dataclass(slots=True)
class SubjectHistory:
    """What findings and retention need of a subject's stored stream.

    ``facts`` holds the basis facts, an erasure request of the whole subject
    included (type ``SubjectErased``); ``erasures`` every erasure; ``uses`` the
    judged uses and ``recorded`` the (judged version, rule) of the findings so far.
    """

    facts: list[Fact] = field(default_factory=list)
    last_recorded: dict[str, datetime] = field(default_factory=dict)
    erasures: list[Erasure] = field(default_factory=list)
    restrictions: list[Restriction] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    recorded: set[tuple[int, str]] = field(default_factory=set)


def use(version: int, kind: str, occurred_at: datetime, data: Any) -> Use:
    """The judge's view of a use line or stored use event (model or dict)."""
    get = _getter(data)
    categories = get("derived_from") if kind == "ProfileDerived" else get("categories")
    return Use(
        version, kind, occurred_at, get("purpose"), controller=get("controller"),
        categories=None if categories is None else tuple(categories), recipient=get("recipient"),
    )  # fmt: skip


def restriction(version: int, kind: str, occurred_at: datetime, data: Any) -> Restriction:
    """The judge's view of a ``ProcessingRestricted`` or ``RestrictionLifted`` (model or dict)."""
    get = _getter(data)
    categories = get("categories")
    return Restriction(
        version, kind, occurred_at,
        None if categories is None else tuple(categories), get("controller"),
    )  # fmt: skip


def erasure(version: int, occurred_at: datetime, data: dict[str, Any]) -> Erasure:
    """The judge's view of a stored ``SubjectErased``."""
    held = {
        h["category"]: None if h.get("until") is None else datetime.fromisoformat(h["until"])
        for h in data.get("held", ())
    }
    return Erasure(version, occurred_at, data["scope"], frozenset(data.get("erased", ())), held)


def fold_event(history: SubjectHistory, version: int, topic: str, state: Mapping[str, Any]) -> None:
    """Fold one event of a subject's stream into its history (other types: nothing).

    ``state``: the event's state at its type's current class version, decoded from
    the store (``read_histories``) or as the append built it to encode
    (``HistoryCache.written``). Only envelope times and plain data are read (no
    ``fields``, which the mapper seals), so both give the same history.
    """
    if topic not in _READ_TOPICS:
        return
    data = state["data"]
    if topic == FINDING:
        judged = data["event"]["version"]
        if data["rule"] == LIFTED:
            history.recorded.difference_update((judged, r) for r in BASIS_RULES)
        else:
            history.recorded.add((judged, data["rule"]))
        return
    occurred = datetime.fromisoformat(state["occurred_at"])
    if topic in USE_TYPES:
        history.uses.append(use(version, topic, occurred, data))
        if topic not in ev.SEALED_TYPES:
            return
    if topic in RESTRICTION_TYPES:
        history.restrictions.append(restriction(version, topic, occurred, data))
    elif topic == ERASURE:
        history.erasures.append(erasure(version, occurred, data))
        if data["scope"] == "subject":
            recorded = datetime.fromisoformat(state["recorded_at"])
            history.facts.append(Fact(version, ERASURE, occurred, recorded))
    elif topic in BASIS_TYPES:
        recorded = datetime.fromisoformat(state["recorded_at"])
        history.facts.append(fact(version, topic, occurred, recorded, data))
    else:
        category = data["category"]
        history.last_recorded[category] = max(
            occurred, history.last_recorded.get(category, occurred)
        )


def read_histories(
    rows: Iterable[StoredEvent],
    mapper: PydanticMapper,
    into: Mapping[UUID, SubjectHistory] | None = None,
) -> defaultdict[UUID, SubjectHistory]:
    """Basis facts and the last recording time of each category, per stream.

    Reads stored states (upcast, values left sealed): nothing personal is opened.
    ``into``: histories already read up to the rows' versions, extended in place (the
    rows must come after what they hold, in stream order).
    """
    out: defaultdict[UUID, SubjectHistory] = defaultdict(SubjectHistory, into or {})
    for row in rows:
        if row.topic not in _READ_TOPICS:
            continue
        state = mapper.upcast(row.topic, orjson.loads(row.state))
        fold_event(out[as_uuid(row.originator_id)], row.originator_version, row.topic, state)
    return out


@dataclass(frozen=True, slots=True)
class Judged:
    """A finding about the line at ``number``, judged as stream version ``version``.

    ``because`` set: the line at ``number`` is a late fact (of that type) and the
    finding is about the earlier-stored use of type ``type`` at version ``version``.
    """

    number: int
    subject: str | None
    type: str
    version: int
    finding: Finding
    because: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The append output's shape (a revision adds ``revises`` and ``because``).

        With the DPV terms of ``schemas.answers.AppendedFinding`` (issue 15, additive).
        """
        rule = self.finding.rule
        out = {
            "line": self.number, "type": self.type, "subject": self.subject,
            "rule": rule, "message": self.finding.message,
            "purpose": self.finding.purpose, "recipient": self.finding.recipient,
        }  # fmt: skip
        if self.because is not None:
            out |= {"revises": self.version, "because": self.because}
        return out | {
            "type_dpv": dpv.event_type(self.type),
            "rule_dpv": dpv.finding_rule(rule),
            "status_dpv": dpv.finding_status(rule),
        }


_WATCHED = JUDGED_TYPES | LATE_TYPES
"""The lines whose subjects the judge keeps histories of."""

_OBSERVED = (
    BASIS_TYPES | RESTRICTION_TYPES | JUDGED_TYPES
    | {"ConsentGranted", "RecipientRegistered", "RecipientEnded"}
)  # fmt: skip
"""The line types ``Judge.observe`` takes in or judges (each line model's ``type`` tag)."""

_Known = tuple[int, list[Interval]]
"""Basis intervals with the number of facts they were worked out from."""


class Judge:
    """Keeps the state the findings need while a batch is turned into events."""

    def __init__(
        self,
        histories: Mapping[UUID, SubjectHistory],
        fresh: list[ParsedLine],
        notices: NoticeHistory,
        agreements: Agreements,
    ) -> None:
        """Judge with ``histories``, stored ones of (at least) the judged lines' subjects.

        They are the judge's to change: ``HistoryCache.histories`` gives copies.
        ``agreements`` are copied before the first recipient line changes them.
        """
        self.notices = notices
        self.agreements = agreements
        self._own_agreements = False
        judged = {p.subject_id for p in fresh if p.subject_id and p.line.type in _WATCHED}
        self.histories: defaultdict[UUID, SubjectHistory] = defaultdict(SubjectHistory)
        self.facts: dict[UUID, list[Fact]] = {}
        for sid in judged:
            history = histories.get(sid)
            if history is None:
                history = SubjectHistory()
            self.histories[sid] = history
            self.facts[sid] = history.facts
        self._rules: BasisRules | None = None
        self._rules_of: tuple[list[NoticeVersion], int] | None = None
        self._intervals: dict[UUID | None, dict[tuple[str, str | None], _Known]] = {}
        """Basis intervals by subject, then (purpose, controller): dropped when a fact of
        the subject comes (``_add_fact``) or the notices change (``_basis_rules``)."""

    def observe(self, p: ParsedLine, version: int, now: datetime) -> list[Finding]:
        """Take in one line stored as ``version`` of its stream; its findings."""
        line = p.line
        kind = line.type
        if kind not in _OBSERVED:
            return []  # what every test below would find of it
        at, subject_id = p.occurred_at, p.subject_id
        if isinstance(line, ev.RecipientRegisteredLine):
            self._agree(line.data.id, Agreement(at, line.data, version))
        elif isinstance(line, ev.RecipientEndedLine):
            self._agree(line.data.id, Agreement(at, None, version))
        elif kind in BASIS_TYPES and subject_id in self.facts:
            self._add_fact(subject_id, fact(version, kind, at, now, _as_read(line.data)))
        elif kind in RESTRICTION_TYPES and subject_id in self.facts:
            self.histories[subject_id].restrictions.append(
                restriction(version, kind, at, _as_read(line.data))
            )
        if isinstance(line, ev.ConsentGrantedLine):
            d = line.data
            wrong = judge_consent_notice(d.purpose, d.notice_version, at, self.notices)
            return [] if wrong is None else [wrong]
        if kind not in JUDGED_TYPES or subject_id is None:
            return []
        facts = self.facts.get(subject_id, [])
        history = self.histories[subject_id]
        found = self._judge(p, version, facts, history)
        if found:
            history.recorded.update((version, f.rule) for f in found)
        return found

    def _agree(self, recipient: str, agreement: Agreement) -> None:
        """Take in a recipient's change, on the judge's own copy of the agreements."""
        if not self._own_agreements:
            history = self.agreements.history
            self.agreements = Agreements({k: list(v) for k, v in history.items()})
            self._own_agreements = True
        self.agreements.add(recipient, agreement)

    def _add_fact(self, subject_id: UUID, new: Fact) -> None:
        """Take in a basis fact of the subject: its intervals are to be worked out again."""
        self.facts[subject_id].append(new)
        self._intervals.pop(subject_id, None)

    def _basis_rules(self) -> BasisRules:
        """``BasisRules`` of the notices, made again if a version was published since."""
        versions = self.notices.versions
        if (
            self._rules is None
            or self._rules_of is None
            or self._rules_of[0] is not versions
            or self._rules_of[1] != len(versions)
        ):
            self._rules, self._rules_of = BasisRules(versions), (versions, len(versions))
            self._intervals.clear()
        return self._rules

    def _basis(
        self, subject_id: UUID | None, facts: list[Fact], purpose: str, controller: str | None
    ) -> list[Interval]:
        """``basis_intervals(facts, ...)`` of the subject, worked out once per fact list."""
        rules = self._basis_rules()
        known = self._intervals.setdefault(subject_id, {})
        found = known.get((purpose, controller))
        if found is None or found[0] != len(facts):
            found = (len(facts), rules.intervals(facts, purpose, controller))
            known[(purpose, controller)] = found
        return found[1]

    def revise(self, p: ParsedLine, version: int) -> list[tuple[Use, Finding]]:
        """Findings about uses judged before ``p`` (stored as ``version``) that it changes.

        Call after ``observe``: a line of ``LATE_TYPES`` that occurred before uses of
        its subject already judged makes them be judged again with it in the history.
        """
        if p.line.type not in LATE_TYPES or p.subject_id not in self.facts:
            return []
        history = self.histories[p.subject_id]
        if p.line.type in GRANT_TYPES:
            found = judge_lifts(
                history.uses, version, p.occurred_at, facts=self.facts[p.subject_id],
                notices=self.notices, recorded=history.recorded, rules=self._basis_rules(),
            )  # fmt: skip
            history.recorded.difference_update((u.position, r) for u, _ in found
                                               for r in BASIS_RULES)  # fmt: skip
        else:
            found = judge_again(
                history.uses, version, p.occurred_at, facts=self.facts[p.subject_id],
                restrictions=history.restrictions, notices=self.notices,
                recorded=history.recorded, rules=self._basis_rules(),
            )  # fmt: skip
            history.recorded.update((u.position, f.rule) for u, f in found)
        if not found:
            return []
        why = (
            f" (judged again: a {p.line.type} that occurred at {p.occurred_at.isoformat()}"
            " was recorded later)"
        )
        return [(u, replace(f, message=f.message + why)) for u, f in found]

    def _judge(
        self, p: ParsedLine, version: int, facts: list[Fact], history: SubjectHistory
    ) -> list[Finding]:
        line, at = p.line, p.occurred_at
        if isinstance(line, ev.PersonalDataRecordedLine):
            late = judge_recorded_after_erasure(history.erasures, facts, at, self.notices)
            category = line.data.category
            history.last_recorded[category] = max(at, history.last_recorded.get(category, at))
            return [] if late is None else [late]
        found: list[Finding | None] = []
        d = line.data
        read = _as_read(d)
        history.uses.append(use(version, line.type, at, read))
        if isinstance(line, ev.DataDisclosedLine):
            found.append(
                judge_disclosure(d.recipient, d.purpose, at, self.notices, self.agreements)
            )
        if isinstance(line, ev.AutomatedDecisionMadeLine):
            found.append(judge_automated_decision(self.notices, at))
        used: tuple[str, ...] = ()
        if isinstance(line, ev.DataDisclosedLine | ev.DataProcessedLine):
            used = line.data.categories
        elif isinstance(line, ev.ProfileDerivedLine):
            used = line.data.derived_from
        found += judge_erased_use(
            history.erasures, history.last_recorded, used,
            purpose=d.purpose, at=at, notices=self.notices,
        )  # fmt: skip
        controller = read.get("controller")
        intervals = self._basis(p.subject_id, facts, d.purpose, controller)
        found.append(
            judge_basis(facts, self.notices, d.purpose, at, controller, intervals=intervals)
        )
        named = None if isinstance(line, ev.AutomatedDecisionMadeLine) else used
        restricted = judge_restriction(
            history.restrictions, named, purpose=d.purpose, at=at, notices=self.notices,
            controller=controller,
        )  # fmt: skip
        found.append(restricted)
        if isinstance(line, ev.DataDisclosedLine):
            found = [f if f is None else replace(f, recipient=d.recipient) for f in found]
        return [f for f in found if f is not None]


_READ_FIELDS = (
    "purpose", "controller", "contract", "expires_at", "notice_version", "categories",
    "derived_from", "recipient",
)  # fmt: skip
"""The fields ``fact``, ``use`` and ``restriction`` read of a line's data."""


_READABLE: dict[type, tuple[str, ...]] = {}


def _readable(model: type) -> tuple[str, ...]:
    """Those of ``_READ_FIELDS`` an instance of ``model`` can have: a field or a class attribute.

    Of any other, ``getattr(instance, name, None)`` is None, found only after pydantic
    raised and caught an AttributeError (microseconds each); a model that keeps extra
    fields can have any.
    """
    found = _READABLE.get(model)
    if found is None:
        fields = getattr(model, "model_fields", None)
        if fields is None or getattr(model, "model_config", {}).get("extra") == "allow":
            found = _READ_FIELDS
        else:
            found = tuple(n for n in _READ_FIELDS if n in fields or hasattr(model, n))
        _READABLE[model] = found
    return found


def _as_read(data: Any) -> dict[str, Any]:
    """A line's data (a model) as ``_getter`` reads it, as a dict (a dict: itself).

    ``getattr(data, name, None)`` of each of ``_READ_FIELDS``, those it cannot have
    left out (absent: None to ``dict.get`` as to ``getattr``).
    """
    if isinstance(data, dict):
        return data
    return {name: getattr(data, name, None) for name in _readable(type(data))}


def finding_data(
    finding: Finding, kind: str, version: int, because: ev.FindingEvidence | None = None
) -> ev.FindingRecordedData:
    """The FindingRecorded event's data; ``because``: the late event it was judged again for."""
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
        revises=None if because is None else version,
        because=because,
    )
