"""A consent's state at an instant: given, withdrawn, revoked or expired (pure).

DPV's consent statuses tell who ended a consent: ``withdrawn`` is the data subject's
own act (or of someone acting for them), ``revoked`` anyone else's (the controller,
an authority). For lawfulness the two are the same (``ledger.domain.basis`` reads
the event type only): the consent ends at the withdrawal's instant either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

ConsentState = Literal["given", "withdrawn", "expired", "revoked"]

SUBJECT = "subject"
"""The withdrawer a ConsentWithdrawn names by default: the data subject."""


def withdrawal_state(withdrawn_by: str | None) -> ConsentState:
    """``withdrawn`` when the subject withdrew (the default), ``revoked`` otherwise."""
    return "withdrawn" if withdrawn_by in (None, SUBJECT) else "revoked"


def consent_state(
    *,
    at: datetime,
    expires_at: datetime | None,
    withdrawn_at: datetime | None,
    withdrawn_by: str | None = None,
) -> ConsentState:
    """The state at ``at`` of a consent granted at or before ``at``.

    A withdrawal at or before ``at`` ends it as withdrawn or revoked, unless the
    consent had already expired when it came (a withdrawal of an expired consent
    changes nothing); otherwise it is expired once ``expires_at`` is at or before
    ``at``, else given.
    """
    if (
        withdrawn_at is not None
        and withdrawn_at <= at
        and (expires_at is None or withdrawn_at < expires_at)
    ):
        return withdrawal_state(withdrawn_by)
    if expires_at is not None and expires_at <= at:
        return "expired"
    return "given"
