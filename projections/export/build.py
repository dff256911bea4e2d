"""Everything the register holds about one subject, decrypted, as one JSON document.

Current values and the recorded history come from the subject's own stream (every
value it ever held, with source and both clocks); purposes with their bases over
time from the lawful-basis view; recipients, retention, controllers, contact,
rights and the automated-decision statement from the notice in force. Values
whose key was destroyed appear as erased, never guessed.
"""

from __future__ import annotations

from typing import Any

from ledger.appending.application import Ledger
from projections.queries import Views

FORMAT = "consent-ledger/subject-export/1"


def _history(ledger: Ledger, subject: str) -> list[dict[str, Any]]:
    subject_id = ledger.subject_id(subject)
    positions = ledger.positions(subject_id)
    out = []
    for e in ledger.stream(subject_id):
        out.append(
            {
                "position": positions.get(e.originator_version),
                "type": e.type,
                "occurred_at": e.occurred_at.isoformat(),
                "recorded_at": e.recorded_at.isoformat(),
                "actor": e.actor,
                "source": e.source,
                "erased": list(e.erased),
                "data": e.data.model_dump(mode="json"),
            }
        )
    return out


def _recipients(ledger: Ledger, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    notice = ledger.notices.in_force(ledger.clock.now())
    named = (
        {}
        if notice is None
        else {r.id: r.model_dump(mode="json") for r in notice.definition.recipients}
    )
    named.update(
        {rid: r.model_dump(mode="json") for rid, r in ledger.registered_recipients().items()}
    )
    received = {h["data"]["recipient"] for h in history if h["type"] == "DataDisclosed"}
    return [
        {**recipient, "received_your_data": rid in received}
        for rid, recipient in sorted(named.items())
    ]


def build_export(views: Views, subject: str) -> dict[str, Any]:
    """The access package of ``subject``."""
    ledger = views.ledger
    now = ledger.clock.now()
    notice = ledger.notices.in_force(now)
    if notice is None:
        msg = "no notice is in force"
        raise ValueError(msg)
    definition = notice.definition
    current = views.subject(subject, at=now, known_at=None)
    history = _history(ledger, subject)
    used_sources = {h["source"] for h in history if h["source"]}
    purposes = []
    for purpose in definition.purposes:
        answer = views.basis(subject, purpose.id, at=now, known_at=None, timeline=True)
        purposes.append(
            {
                "id": purpose.id,
                "description": purpose.description,
                "allowed_bases": [b.value for b in purpose.bases],
                "lawful_now": answer.lawful,
                "timeline": [i.model_dump(mode="json") for i in answer.timeline or []],
            }
        )
    return {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "subject": subject,
        "register": {
            "name": definition.name,
            "notice_version": notice.version,
            "notice_effective_from": notice.effective_from.isoformat(),
        },
        "controllers": [c.model_dump(mode="json") for c in definition.controllers],
        "privacy_contact": definition.privacy_contact.model_dump(mode="json"),
        "data": {
            category: {
                "description": (
                    found.description if (found := definition.category(category)) else ""
                ),
                "fields": {name: value.model_dump(mode="json") for name, value in fields.items()},
            }
            for category, fields in current.fields.items()
        },
        "erased_categories": current.erased,
        "purposes": purposes,
        "consents": [c.model_dump(mode="json") for c in current.consents],
        "contracts": [c.model_dump(mode="json") for c in current.contracts],
        "objections": [o.model_dump(mode="json") for o in current.objections],
        "recipients": _recipients(ledger, history),
        "disclosures": [
            {"occurred_at": h["occurred_at"], **h["data"]}
            for h in history
            if h["type"] == "DataDisclosed"
        ],
        "processing": [
            {"occurred_at": h["occurred_at"], **h["data"]}
            for h in history
            if h["type"] == "DataProcessed"
        ],
        "sources": [s.model_dump(mode="json") for s in definition.sources if s.id in used_sources],
        "retention": [r.model_dump(mode="json") for r in definition.retention],
        "automated_decisions": {
            **definition.automated_decisions.model_dump(mode="json"),
            "recorded": [h for h in history if h["type"] == "AutomatedDecisionMade"],
        },
        "rights": list(definition.rights),
        "history": history,
    }
