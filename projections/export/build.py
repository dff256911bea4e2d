"""Everything the register holds about one subject, decrypted, as one JSON document.

Current values and the recorded history come from the subject's own stream (every
value it ever held, with source and both clocks); purposes with their bases over
time from the lawful-basis view; recipients, retention, controllers, contact,
rights and the automated-decision statement from the notice in force. Values
whose key was destroyed appear as erased, never guessed.

For a reader (``projections.export.readable``), every purpose, category, field,
source, recipient and retention rule also carries its words in each package language
(the register's labels, else its descriptions: never a bare id), durations in words,
the sources the data came from, the logic of automated decisions and profiling, and
W3C DPV terms beside the ids. Every key the format had keeps its value.
"""

from __future__ import annotations

from typing import Any

from ledger.appending.application import Ledger
from projections.export import readable
from projections.export.words import LANGUAGES, in_languages
from projections.queries import Views
from schemas import dpv

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
                "type_dpv": dpv.event_type(e.type),
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
        {**recipient, "received_your_data": rid in received, **readable.recipient_entry(recipient)}
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
    definitions = [v.definition for v in ledger.notices.versions if v.effective_from <= now]
    words = readable.lookup(definitions, ledger.registered_recipients().values())
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
                **readable.purpose_entry(purpose),
            }
        )
    rights_label = definition.rights_label or {}
    return {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "subject": subject,
        "register": {
            "name": definition.name,
            "notice_version": notice.version,
            "notice_effective_from": notice.effective_from.isoformat(),
            "label": in_languages(definition.label, definition.name),
        },
        "language": definition.language,
        "languages": list(LANGUAGES),
        "time_zone": definition.time_zone or "UTC",
        "labels": words,
        "controllers": [c.model_dump(mode="json") for c in definition.controllers],
        "privacy_contact": definition.privacy_contact.model_dump(mode="json"),
        "data": {
            category: {
                "description": (
                    found.description if (found := definition.category(category)) else ""
                ),
                "fields": {name: value.model_dump(mode="json") for name, value in fields.items()},
                **readable.category_entry(definition.category(category), fields),
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
            {"occurred_at": h["occurred_at"], **h["data"], "processing_dpv": dpv.DISCLOSE}
            for h in history
            if h["type"] == "DataDisclosed"
        ],
        "processing": [
            {"occurred_at": h["occurred_at"], **h["data"], "processing_dpv": dpv.USE}
            for h in history
            if h["type"] == "DataProcessed"
        ],
        "sources": readable.sources(definition, words, history),
        "retention": [
            {
                **r.model_dump(mode="json"),
                **readable.retention_entry(r, words["categories"].get(r.category)),
            }
            for r in definition.retention
        ],
        "automated_decisions": {
            **definition.automated_decisions.model_dump(mode="json"),
            **readable.automated(definitions, history, words, current.fields),
        },
        "rights": list(definition.rights),
        "rights_label": {
            lang: list(rights_label.get(lang) or definition.rights) for lang in LANGUAGES
        },
        "history": history,
    }
