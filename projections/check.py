"""``ledger check``: the pre-flight question a service asks before acting.

May this subject's data be processed for this purpose now, and (optionally) be
disclosed to this recipient, covering these categories? Answered from the views:
the lawful-basis answer, the recipient's agreement in force and its transfer
ground, and whether the subject has data in the categories named.
"""

from __future__ import annotations

from datetime import datetime

from projections.queries import Views
from projections.recipients.view import agreement_at
from schemas.answers import AgreementAnswer, CheckAnswer


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
) -> CheckAnswer:
    """Whether processing (and the disclosure) would be allowed at ``at``, and why not."""
    basis = views.basis(subject, purpose, at=at, known_at=None)
    problems = [] if basis.lawful else [f"no lawful basis for {purpose!r} now"]
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
    return CheckAnswer(
        subject=subject, purpose=purpose, at=at, allowed=not problems, problems=problems,
        basis=basis, recipient=agreement, categories=categories,
    )  # fmt: skip
