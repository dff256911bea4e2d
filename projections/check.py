"""``ledger check``: the pre-flight question a service asks before acting.

May this subject's data be processed for this purpose now, and (optionally) be
disclosed to this recipient, covering these categories? Answered from the views:
the lawful-basis answer, the recipient's agreement in force and its transfer
ground, and whether the subject has data in the categories named.
"""

from __future__ import annotations

from datetime import UTC, datetime

from projections.lawful_basis.view import restriction_problems
from projections.queries import Views
from projections.recipients.view import agreement_at
from schemas.answers import AgreementAnswer, BasisAnswer, BasisInterval, CheckAnswer


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _how_it_ended(views: Views, last: BasisInterval) -> str:
    """What ended ``last``: the event (type, position, time), or what it ran out by."""
    assert last.until is not None  # noqa: S101 - the caller picks ended intervals
    ended = f"the {last.basis} basis ended at {_utc(last.until)}"
    if last.ended_by is not None:
        return f"{ended} by {last.ended_by.type} at position {last.ended_by.position}"
    if any(n.effective_from == last.until for n in views.ledger.notices.versions):
        return f"{ended}, when a notice version that does not allow it took effect"
    if last.basis == "consent" and last.evidence:
        grant = last.evidence[0]
        return f"{ended}, when the consent ({grant.type} at position {grant.position}) expired"
    return f"{ended}, when its period ran out"


def _no_basis(views: Views, basis: BasisAnswer, controller: str | None) -> str:
    """Why nothing holds at ``at``: which event ended the last basis, never "now"."""
    whose = "" if controller is None else f" of controller {controller}"
    head = f"no lawful basis for {basis.purpose!r}{whose} at {_utc(basis.at)}"
    if basis.last_ended is None:
        return f"{head}: no basis had held before that instant"
    return f"{head}: {_how_it_ended(views, basis.last_ended)}"


def _recipient_problems(agreement: AgreementAnswer, purpose: str) -> list[str]:
    if not agreement.known:
        return [f"recipient {agreement.recipient!r} has no agreement in force"]
    if agreement.ended:
        return [f"recipient {agreement.recipient!r} has ended"]
    problems = []
    if purpose not in agreement.purposes:
        problems.append(f"recipient {agreement.recipient!r} does not take part in {purpose!r}")
    if agreement.outside_eea and agreement.safeguard is None:
        problems.append(f"transfer to {agreement.country} has no safeguard")
    return problems


def check(
    views: Views,
    subject: str,
    purpose: str,
    *,
    at: datetime,
    recipient: str | None = None,
    categories: list[str] | None = None,
    controller: str | None = None,
) -> CheckAnswer:
    """Whether processing (and the disclosure) would be allowed at ``at``, and why not.

    ``controller``: the controller that would process; None: any controller of the
    purpose (the basis answer's ``by_controller`` tells which). A purpose, recipient or
    category the register never knew is ``NotKnown`` (a question without an answer),
    not a problem of the answer.
    """
    views.known_purpose(purpose)
    if recipient is not None:
        views.known_recipient(recipient)
    if categories:
        views.known_categories(categories)
    basis = views.basis(subject, purpose, at=at, known_at=None, controller=controller)
    problems = [] if basis.lawful else [_no_basis(views, basis, controller)]
    agreement = None
    if recipient is not None:
        agreement = agreement_at(views.store, views.ledger.notices, recipient, at)
        problems += _recipient_problems(agreement, purpose)
    if categories:
        held = views.subject(subject, at=at, known_at=None)
        available = {
            c for c, fields in held.fields.items() if any(not v.erased for v in fields.values())
        }
        problems += [f"the subject has no {c!r} data" for c in categories if c not in available]
    problems += restriction_problems(basis, categories or None)  # last: Art. 18
    return CheckAnswer(
        subject=subject, purpose=purpose, at=at, allowed=not problems, problems=problems,
        basis=basis, recipient=agreement, categories=categories,
    )  # fmt: skip
