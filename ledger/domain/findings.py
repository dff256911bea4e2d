"""Record, then judge: the policy findings of a recorded fact, as pure functions.

A true fact that breaks policy is appended anyway and flagged. The judge needs the
subject's basis facts so far (stored and earlier in the same batch), the notice
versions, and each recipient's agreement history:

* a disclosure for a purpose outside the recipient's agreement in force, to an
  ended recipient, or to a recipient with no agreement at that instant;
* a disclosure or processing (``DataProcessed``, ``ProfileDerived``,
  ``AutomatedDecisionMade``) at an instant when the subject has no lawful basis for
  the purpose and the controller, or, for a consent-only purpose, no consent;
* an automated decision while the notice in force says there are none;
* after an erasure: a disclosure or processing of a category it erased (and that
  was not recorded again since), or of a category it held for a purpose other than
  the hold's (Art. 17(3): only the purposes resting on a legal obligation, and
  while a contract runs, those resting on the contract); personal data recorded
  after an erasure request of the whole subject, with no contract started or
  consent granted since;
* a disclosure or processing (``DataProcessed``, ``ProfileDerived``,
  ``AutomatedDecisionMade``) of a category whose processing is restricted at that
  instant (Art. 18(2)): storing it (``PersonalDataRecorded``) is not a finding. An
  automated decision names no categories: it uses the subject's data, so any
  restricted category of the notice in force counts. Art. 18(2)'s exceptions
  (consent, legal claims, another's rights, public interest) are the DPO's to
  weigh: the finding names the restriction.

A fact recorded late (its ``occurred_at`` before uses already judged) can make those
uses unlawful: ``judge_again`` judges each later use of the subject again, for its
basis and its restriction, against the history now known, and returns only the
findings not recorded already (the old findings stay: they were true of what was
known then). A grant recorded late can make such uses lawful: ``judge_lifts`` returns a
``finding_lifted`` finding for each basis finding it makes wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ledger.domain.basis import (
    ERASURE,
    BasisRules,
    Evidence,
    Fact,
    Interval,
    Restriction,
    basis_intervals,
    restricted_at,
)
from ledger.domain.register import NoticeHistory
from schemas.register import LegalBasis, Recipient


@dataclass(frozen=True, slots=True)
class Agreement:
    """A recipient's agreement from ``since``; ``terms`` None means it ended then."""

    since: datetime
    terms: Recipient | None
    version: int | None = None


@dataclass(slots=True)
class Agreements:
    """Agreement histories of registered recipients (by RecipientRegistered/Ended)."""

    history: dict[str, list[Agreement]] = field(default_factory=dict)

    def add(self, recipient: str, agreement: Agreement) -> None:
        """Record a registration, change or end."""
        timeline = self.history.setdefault(recipient, [])
        timeline.append(agreement)
        timeline.sort(key=lambda a: a.since)

    def at(self, recipient: str, at: datetime) -> Agreement | None:
        """The registered agreement in force at ``at`` (the latest change before it)."""
        found = None
        for agreement in self.history.get(recipient, ()):
            if agreement.since <= at:
                found = agreement
        return found


@dataclass(frozen=True, slots=True)
class Finding:
    """One policy finding about one recorded fact."""

    rule: str
    message: str
    purpose: str | None = None
    recipient: str | None = None
    notice_version: str | None = None
    evidence: tuple[Evidence, ...] = ()


def _recent(facts: Sequence[Fact], at: datetime, purpose: str) -> tuple[Evidence, ...]:
    relevant = [
        f for f in facts
        if f.occurred_at <= at and (f.purpose in (purpose, None))
    ]  # fmt: skip
    return tuple(Evidence(f.position, f.type) for f in relevant[-5:])


def _ended(intervals: Sequence[Interval], at: datetime) -> Evidence | None:
    """The event that ended the latest interval before ``at``, if an event did."""
    before = [i for i in intervals if i.until is not None and i.until <= at]
    latest = max(before, key=lambda i: i.until or at, default=None)
    return None if latest is None else latest.ended_by


def judge_basis(
    facts: Sequence[Fact],
    notices: NoticeHistory,
    purpose: str,
    at: datetime,
    controller: str | None = None,
    *,
    intervals: Sequence[Interval] | None = None,
) -> Finding | None:
    """A finding when nothing makes processing for ``purpose`` lawful at ``at``.

    ``controller``: the controller that processed; None: lawful if any controller
    of the purpose has a basis (the rules demand a controller where that matters).
    ``intervals``: ``basis_intervals(facts, notices.versions, purpose, controller)``
    when the caller has them already (worked out once for many uses); only read.
    """
    notice = notices.in_force(at)
    if notice is None:
        return None
    if intervals is None:
        intervals = basis_intervals(facts, notices.versions, purpose, controller)
    if any(i.holds_at(at) for i in intervals):
        return None
    found = notice.index.purposes.get(purpose)
    consent_only = found is not None and set(found.bases) == {LegalBasis.CONSENT}
    rule = "processing_without_consent" if consent_only else "no_lawful_basis"
    what = "no consent" if consent_only else "no lawful basis"
    whose = "" if controller is None else f" of controller {controller}"
    ended = _ended(intervals, at)
    why = "" if ended is None else f" (the last basis was ended by {ended.type})"
    evidence = _recent(facts, at, purpose)
    if ended is not None and ended not in evidence:
        evidence = (*evidence, ended)
    return Finding(
        rule,
        f"{what} for purpose {purpose!r}{whose} at {at.isoformat()}{why}",
        purpose=purpose,
        notice_version=notice.version,
        evidence=evidence,
    )


@dataclass(frozen=True, slots=True)
class Erasure:
    """A ``SubjectErased`` as the judge needs it: what it erased, what it held until when."""

    position: int
    occurred_at: datetime
    scope: str
    erased: frozenset[str]
    held: dict[str, datetime | None]


def _hold_purposes(notices: NoticeHistory, at: datetime, contract_running: bool) -> set[str]:
    """What held data may still serve at ``at`` (Art. 17(3)(b), (e))."""
    notice = notices.in_force(at)
    if notice is None:
        return set()
    allowed = {LegalBasis.LEGAL_OBLIGATION} | ({LegalBasis.CONTRACT} if contract_running else set())
    return {p.id for p in notice.definition.purposes if allowed & set(p.bases)}


def judge_erased_use(
    erasures: Sequence[Erasure],
    recorded: dict[str, datetime],
    categories: Sequence[str],
    *,
    purpose: str,
    at: datetime,
    notices: NoticeHistory,
) -> list[Finding]:
    """Findings for using erased data, or held data beyond its hold.

    ``recorded``: the last instant each category was recorded; data recorded after
    the erasure is new data, not the erased one.
    """
    out: list[Finding] = []
    version = None if (n := notices.in_force(at)) is None else n.version
    for category in dict.fromkeys(categories):
        erasure = next(
            (
                e
                for e in sorted(erasures, key=lambda e: e.occurred_at, reverse=True)
                if e.occurred_at <= at and (category in e.erased or category in e.held)
            ),
            None,
        )
        last = recorded.get(category)
        if erasure is None or (last is not None and last > erasure.occurred_at):
            continue
        evidence = (Evidence(erasure.position, ERASURE),)
        if category in erasure.erased:
            message = f"category {category!r} was erased at {erasure.occurred_at.isoformat()}"
            out.append(Finding("erased_data_used", message, purpose, None, version, evidence))
            continue
        until = erasure.held[category]
        if until is not None and at >= until:
            message = f"the hold on category {category!r} ended at {until.isoformat()}"
        elif purpose not in _hold_purposes(notices, at, contract_running=until is None):
            message = (
                f"category {category!r} is held after an erasure only for its legal hold,"
                f" not for purpose {purpose!r}"
            )
        else:
            continue
        out.append(
            Finding("held_data_used_outside_hold", message, purpose, None, version, evidence)
        )
    return out


def judge_recorded_after_erasure(
    erasures: Sequence[Erasure], facts: Sequence[Fact], at: datetime, notices: NoticeHistory
) -> Finding | None:
    """A finding for personal data recorded after an erasure request of the subject.

    Unless the subject came back: a contract started or a consent granted since.
    """
    requests = [e for e in erasures if e.scope == "subject" and e.occurred_at <= at]
    if not requests:
        return None
    erasure = max(requests, key=lambda e: e.occurred_at)
    if any(
        f.type in {"ContractStarted", "ConsentGranted"}
        and erasure.occurred_at < f.occurred_at <= at
        for f in facts
    ):
        return None
    notice = notices.in_force(at)
    message = (
        f"personal data recorded after the subject's erasure at"
        f" {erasure.occurred_at.isoformat()}, with no contract or consent since"
    )
    return Finding(
        "data_recorded_after_erasure",
        message,
        notice_version=None if notice is None else notice.version,
        evidence=(Evidence(erasure.position, ERASURE),),
    )


def judge_disclosure(
    recipient: str, purpose: str, at: datetime, notices: NoticeHistory, agreements: Agreements
) -> Finding | None:
    """A finding when the recipient's agreement at ``at`` does not cover the disclosure."""
    notice = notices.in_force(at)
    registered = agreements.at(recipient, at)
    named = None if notice is None else next(
        (r for r in notice.definition.recipients if r.id == recipient), None
    )  # fmt: skip
    terms = registered.terms if registered is not None else named
    version = None if notice is None else notice.version
    if registered is not None and registered.terms is None:
        message = f"recipient {recipient!r} had ended at {at.isoformat()}"
        return Finding("disclosure_to_ended_recipient", message, purpose, recipient, version)
    if terms is None:
        message = f"recipient {recipient!r} had no agreement in force at {at.isoformat()}"
        return Finding("disclosure_to_unregistered_recipient", message, purpose, recipient, version)
    if purpose not in terms.purposes:
        message = f"recipient {recipient!r} takes part in {list(terms.purposes)}, not {purpose!r}"
        return Finding("disclosure_outside_agreement", message, purpose, recipient, version)
    return None


def judge_automated_decision(notices: NoticeHistory, at: datetime) -> Finding | None:
    """A finding when the notice in force says there is no automated decision-making."""
    notice = notices.in_force(at)
    if notice is None or notice.definition.automated_decisions.exists:
        return None
    message = f"notice {notice.version} says: {notice.definition.automated_decisions.statement}"
    return Finding("automated_decision_not_in_notice", message, notice_version=notice.version)


def judge_consent_notice(
    purpose: str, named: str | None, at: datetime, notices: NoticeHistory
) -> Finding | None:
    """A finding when a consent names a notice version not in force at its grant.

    Consent must be informed (Art. 4(11), 7(1)) by the notice its processing runs
    under: a version published but not yet in force, or one superseded by then, is
    not that notice. The consent is recorded (it happened) and flagged.
    """
    notice = notices.in_force(at)
    agreed = None if named is None else notices.get(named)
    if notice is None or agreed is None or agreed.version == notice.version:
        return None
    why = "was not yet in force" if agreed.effective_from > at else "had been superseded"
    message = (
        f"consent to {purpose!r} names notice {agreed.version}, which {why} at"
        f" {at.isoformat()}; notice {notice.version} was in force"
    )
    return Finding(
        "consent_under_wrong_notice", message, purpose=purpose, notice_version=notice.version
    )


def judge_restriction(
    restrictions: Sequence[Restriction],
    categories: Sequence[str] | None,
    *,
    purpose: str,
    at: datetime,
    notices: NoticeHistory,
    controller: str | None = None,
) -> Finding | None:
    """A finding when a category used at ``at`` is restricted (Art. 18) then.

    ``categories`` None: the use names none (an automated decision), so every
    category of the notice in force counts.
    """
    notice = notices.in_force(at)
    if categories is None:
        categories = [] if notice is None else [c.id for c in notice.definition.categories]
    found = restricted_at(restrictions, categories, controller, at)
    if not found:
        return None
    evidence = tuple(dict.fromkeys(found.values()))
    since = {r.position: r.occurred_at for r in restrictions}
    by = ", ".join(f"{e.type} of {since[e.position].isoformat()}" for e in evidence)
    message = (
        f"categories {sorted(found)} used for purpose {purpose!r} at {at.isoformat()} while"
        f" their processing was restricted (by {by}): only storing is allowed"
    )
    return Finding(
        "processing_while_restricted",
        message,
        purpose=purpose,
        notice_version=None if notice is None else notice.version,
        evidence=evidence,
    )


@dataclass(frozen=True, slots=True)
class Use:
    """A judged use of a subject's data: a disclosure, processing, derivation or decision.

    ``categories`` None: the use names none (an automated decision); ``recipient``:
    a disclosure's.
    """

    position: int
    type: str
    occurred_at: datetime
    purpose: str
    controller: str | None = None
    categories: tuple[str, ...] | None = None
    recipient: str | None = None


def judge_again(
    uses: Sequence[Use],
    cause: int,
    since: datetime,
    *,
    facts: Sequence[Fact],
    restrictions: Sequence[Restriction],
    notices: NoticeHistory,
    recorded: Collection[tuple[int, str]],
    rules: BasisRules | None = None,
) -> list[tuple[Use, Finding]]:
    """Findings about uses after ``since`` that the fact at ``cause``, recorded late, brings.

    ``cause``: the position of the late fact (a basis fact or a restriction), which
    occurred at ``since``. Each use that occurred after ``since`` is judged again for
    its basis and its restriction against ``facts`` and ``restrictions`` (the
    history known now, the late fact included); a finding counts only when the same
    history without the late fact gives none of its rule, and not when ``recorded``
    (use position, rule of the findings already recorded) holds it. In the order of
    the uses' positions. ``rules``: ``BasisRules`` of ``notices`` when the caller keeps one.
    """
    without = [f for f in facts if f.position != cause]
    unrestricted = [r for r in restrictions if r.position != cause]
    basis_now, basis_before = (
        _intervals_of(facts, notices, rules),
        _intervals_of(without, notices, rules),
    )

    def judged(
        use: Use,
        facts: Sequence[Fact],
        restrictions: Sequence[Restriction],
        basis: Callable[[str, str | None], list[Interval]],
    ) -> list[Finding]:
        at = use.occurred_at
        intervals = basis(use.purpose, use.controller)
        found = (
            judge_basis(facts, notices, use.purpose, at, use.controller, intervals=intervals),
            judge_restriction(
                restrictions, use.categories, purpose=use.purpose, at=at, notices=notices,
                controller=use.controller,
            ),
        )  # fmt: skip
        return [f for f in found if f is not None]

    out: list[tuple[Use, Finding]] = []
    for use in sorted(uses, key=lambda u: u.position):
        if use.occurred_at <= since:
            continue
        before = {f.rule for f in judged(use, without, unrestricted, basis_before)}
        for finding in judged(use, facts, restrictions, basis_now):
            if finding.rule in before or (use.position, finding.rule) in recorded:
                continue
            named = finding if use.recipient is None else replace(finding, recipient=use.recipient)
            out.append((use, named))
    return out


def _intervals_of(
    facts: Sequence[Fact], notices: NoticeHistory, rules: BasisRules | None
) -> Callable[[str, str | None], list[Interval]]:
    """``basis_intervals`` of ``facts`` by purpose and controller, each worked out once."""
    known: dict[tuple[str, str | None], list[Interval]] = {}
    under = BasisRules(notices.versions) if rules is None else rules

    def intervals(purpose: str, controller: str | None) -> list[Interval]:
        found = known.get((purpose, controller))
        if found is None:
            found = known[(purpose, controller)] = under.intervals(facts, purpose, controller)
        return found

    return intervals


BASIS_RULES = ("no_lawful_basis", "processing_without_consent")
"""The rules ``judge_basis`` gives: what a basis fact recorded late can make wrong."""

LIFTED = "finding_lifted"


def judge_lifts(
    uses: Sequence[Use],
    cause: int,
    since: datetime,
    *,
    facts: Sequence[Fact],
    notices: NoticeHistory,
    recorded: Collection[tuple[int, str]],
    rules: BasisRules | None = None,
) -> list[tuple[Use, Finding]]:
    """Lifts of basis findings that a grant at ``cause``, recorded late, makes wrong.

    ``cause``: the position of a ``ConsentGranted`` or ``ContractStarted`` that
    occurred at ``since``. For each use after ``since`` with a basis finding in
    ``recorded`` (use position, rule) that has a lawful basis against ``facts`` (the
    history known now, the late fact included) and none without the late fact, one
    ``finding_lifted`` finding per lifted rule, naming it. In the order of the uses'
    positions. ``rules``: ``BasisRules`` of ``notices`` when the caller keeps one.
    """
    without = [f for f in facts if f.position != cause]
    late = next((f for f in facts if f.position == cause), None)
    if late is None:
        return []
    basis_now, basis_before = (
        _intervals_of(facts, notices, rules),
        _intervals_of(without, notices, rules),
    )
    out: list[tuple[Use, Finding]] = []
    for use in sorted(uses, key=lambda u: u.position):
        lifted = [r for r in BASIS_RULES if (use.position, r) in recorded]
        if use.occurred_at <= since or not lifted:
            continue
        at = use.occurred_at
        now = basis_now(use.purpose, use.controller)
        if judge_basis(facts, notices, use.purpose, at, use.controller, intervals=now) is not None:
            continue
        before = basis_before(use.purpose, use.controller)
        if judge_basis(without, notices, use.purpose, at, use.controller, intervals=before) is None:
            continue
        notice = notices.in_force(at)
        whose = "" if use.controller is None else f" of controller {use.controller}"
        for rule in lifted:
            message = (
                f"the {rule} finding about this {use.type} is lifted: purpose"
                f" {use.purpose!r}{whose} had a lawful basis at {at.isoformat()}"
            )
            out.append((use, Finding(
                LIFTED, message, purpose=use.purpose, recipient=use.recipient,
                notice_version=None if notice is None else notice.version,
                evidence=(Evidence(late.position, late.type),),
            )))  # fmt: skip
    return out
