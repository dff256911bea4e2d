"""Record, then judge: the policy findings of a recorded fact, as pure functions.

A true fact that breaks policy is appended anyway and flagged. The judge needs the
subject's basis facts so far (stored and earlier in the same batch), the notice
versions, and each recipient's agreement history:

* a disclosure for a purpose outside the recipient's agreement in force, to an
  ended recipient, or to a recipient with no agreement at that instant;
* a disclosure or processing (``ProfileDerived``, ``AutomatedDecisionMade``) at an
  instant when the subject has no lawful basis for the purpose, or, for a
  consent-only purpose, no consent;
* an automated decision while the notice in force says there are none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ledger.domain.basis import Evidence, Fact, basis_intervals
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


def judge_basis(
    facts: Sequence[Fact], notices: NoticeHistory, purpose: str, at: datetime
) -> Finding | None:
    """A finding when nothing makes processing for ``purpose`` lawful at ``at``."""
    notice = notices.in_force(at)
    if notice is None:
        return None
    holding = [i for i in basis_intervals(facts, notices.versions, purpose) if i.holds_at(at)]
    if holding:
        return None
    found = notice.index.purposes.get(purpose)
    consent_only = found is not None and set(found.bases) == {LegalBasis.CONSENT}
    rule = "processing_without_consent" if consent_only else "no_lawful_basis"
    what = "no consent" if consent_only else "no lawful basis"
    return Finding(
        rule,
        f"{what} for purpose {purpose!r} at {at.isoformat()}",
        purpose=purpose,
        notice_version=notice.version,
        evidence=_recent(facts, at, purpose),
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
