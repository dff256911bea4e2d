"""A recipient's agreement at an instant: the latest registration, or the notice's."""

from __future__ import annotations

from datetime import datetime

import orjson

from ledger.domain.register import NoticeHistory
from ledger.persistence.views import ViewStore
from projections.base import micros
from schemas.answers import AgreementAnswer
from schemas.register import EEA_COUNTRIES


def agreement_at(
    store: ViewStore, notices: NoticeHistory, recipient: str, at: datetime
) -> AgreementAnswer:
    """The agreement in force at ``at`` (registered changes win over the notice's entry)."""
    rows = store.query(
        "SELECT ended, terms FROM {t}v_agreements WHERE recipient = ? AND occurred_at <= ?"
        " ORDER BY occurred_at DESC, position DESC LIMIT 1",
        (recipient, micros(at)),
    )
    if rows and rows[0]["ended"]:
        return AgreementAnswer(recipient=recipient, known=True, ended=True)
    terms = orjson.loads(rows[0]["terms"]) if rows else None
    from_notice = False
    notice = notices.in_force(at)
    if terms is None and notice is not None:
        named = next((r for r in notice.definition.recipients if r.id == recipient), None)
        terms = None if named is None else named.model_dump(mode="json")
        from_notice = terms is not None
    if terms is None:
        return AgreementAnswer(recipient=recipient, known=False, ended=False)
    return AgreementAnswer(
        recipient=recipient,
        known=True,
        ended=False,
        name=terms["name"],
        role=terms["role"],
        country=terms["country"],
        purposes=list(terms["purposes"]),
        safeguard=terms.get("safeguard"),
        outside_eea=terms["country"] not in EEA_COUNTRIES,
        from_notice=from_notice,
    )
