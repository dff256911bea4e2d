"""Consent receipts: the consent in force, as an ISO/IEC TS 27560 record or a Kantara receipt.

A receipt names the subject by its reference only, the purpose with its description
from the notice the consent was given under, the controllers, the grant event's log
position, leaf hash and inclusion proof against the latest signed checkpoint, and is
signed with the receipt key (``receipt_keys``), never the checkpoint key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import NotFound
from ledger.evidence.proofs import prove_inclusion
from ledger.evidence.sealing import Sealer
from ledger.standards import dpv
from ledger.standards.receipt_keys import public_key_text
from ledger.standards.signing import sign
from projections.queries import Views
from schemas.answers import BasisAnswer, BasisInterval, EvidenceRef
from schemas.events import ConsentGranted, ConsentGrantedData
from schemas.receipts import (
    PROOF_FORMAT,
    ConsentRecord27560,
    InclusionProof,
    KantaraReceipt,
    LedgerEvidence,
)
from schemas.register import RegisterDefinition

Format = Literal["iso27560", "kantara"]
FORMATS: tuple[Format, ...] = ("iso27560", "kantara")


class NoConsentInForce(NotFound):
    """No consent of the subject to the purpose holds at the instant asked about."""


@dataclass(frozen=True, slots=True)
class _Grant:
    """What both formats say: the subject, the grant, its notice, its proof."""

    subject: str
    purpose: str
    at: datetime
    occurred_at: datetime
    data: ConsentGrantedData
    notice: RegisterDefinition
    controllers: tuple[str, ...]
    evidence: LedgerEvidence


def utc_text(instant: datetime) -> str:
    """An instant as RFC 3339 in UTC with ``Z`` (the only time format in receipts)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def consent_receipt(
    views: Views,
    sealer: Sealer,
    key: Ed25519PrivateKey,
    subject: str,
    purpose: str,
    *,
    at: datetime,
    form: Format = "iso27560",
    controller: str | None = None,
) -> dict[str, Any]:
    """The signed receipt of the consent in force at ``at``.

    Raises:
        NoConsentInForce: No consent holds then (naming what ended the last basis).
    """
    answer = views.basis(subject, purpose, at=at, known_at=None, controller=controller)
    grant = _grant(views, sealer, answer, _consent(answer))
    unsigned = _iso(grant) if form == "iso27560" else _kantara(grant, key)
    signed = sign(unsigned, key)
    model = ConsentRecord27560 if form == "iso27560" else KantaraReceipt
    model.model_validate(signed)  # the shape the schema publishes, before anyone sees it
    return signed


def _consent(answer: BasisAnswer) -> BasisInterval:
    found = [i for i in answer.bases if i.basis == "consent"]
    if found:
        return found[0]
    whom = f" (controller {answer.controller})" if answer.controller else ""
    msg = (
        f"no consent of subject {answer.subject!r} to purpose {answer.purpose!r}{whom}"
        f" is in force at {utc_text(answer.at)}"
    )
    last = answer.last_ended
    if last is not None:
        until = "" if last.until is None else f" at {utc_text(last.until)}"
        how = "ran out" if last.ended_by is None else (
            f"was ended by event #{last.ended_by.position} {last.ended_by.type}"
        )  # fmt: skip
        msg += f"; the last basis ({last.basis}, from {utc_text(last.since)}) {how}{until}"
    raise NoConsentInForce(msg)


def _grant(views: Views, sealer: Sealer, answer: BasisAnswer, consent: BasisInterval) -> _Grant:
    ledger = views.ledger
    grants = [e for e in consent.evidence if e.type == "ConsentGranted"]
    ref: EvidenceRef = max(grants, key=lambda e: e.position)
    (stored,) = ledger.ledger_recorder.select_at_positions([ref.position])
    event = ledger.mapper.to_domain_event(stored)
    assert isinstance(event, ConsentGranted)  # noqa: S101 - the view's evidence type
    version = event.data.notice_version or answer.notice_version or ""
    notice = ledger.notices.get(version)
    if notice is None:
        msg = f"the notice version {version!r} the consent was given under is not published"
        raise NotFound(msg)
    definition = notice.definition
    controllers = (
        (event.data.controller,) if event.data.controller
        else definition.controllers_of(answer.purpose)
    )  # fmt: skip
    return _Grant(
        answer.subject, answer.purpose, answer.at, event.occurred_at, event.data, definition,
        controllers, _evidence(sealer, answer, version, ref.position),
    )  # fmt: skip


def _evidence(sealer: Sealer, answer: BasisAnswer, version: str, position: int) -> LedgerEvidence:
    proof = prove_inclusion(sealer, position)
    return LedgerEvidence(
        purpose_id=answer.purpose,
        notice_version=version,
        lawful_basis=dpv.LAWFUL_BASES["consent"],
        consent_state=dpv.CONSENT_GIVEN,
        at=utc_text(answer.at),
        grant_event=InclusionProof(
            format=PROOF_FORMAT, log_position=position, leaf_hash=proof["leaf_hash"],
            leaf_index=proof["leaf_index"], tree_size=proof["tree_size"],
            audit_path=proof["audit_path"], checkpoint=proof["checkpoint"],
            verifier_key=proof["verifier_key"],
        ),
    )  # fmt: skip


def _receipt_id(grant: _Grant, form: Format) -> str:
    name = f"urn:ledger:receipt:{form}:{grant.evidence.grant_event.leaf_hash}:{grant.evidence.at}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _purpose_facts(grant: _Grant) -> tuple[str, list[str], list[str]]:
    """(description, DPV purpose concepts, recipient ids) of the consented purpose."""
    purpose = next(p for p in grant.notice.purposes if p.id == grant.purpose)
    recipients = [r.id for r in grant.notice.recipients if grant.purpose in r.purposes]
    concepts = dpv.purpose_concepts(direct_marketing=purpose.direct_marketing)
    return purpose.description, concepts, recipients


def _termination(grant: _Grant) -> str:
    expires = grant.data.expires_at
    until = "" if expires is None else f"; it expires at {utc_text(expires)}"
    return f"until withdrawn (GDPR Art. 7(3)){until}"


def _parties(grant: _Grant) -> list[dict[str, Any]]:
    named = {c.business_id: c for c in grant.notice.controllers}
    controllers = [
        {"party_id": c, "party_name": named[c].name if c in named else None,
         "party_role": dpv.DATA_CONTROLLER,
         "party_address": named[c].address if c in named else None}
        for c in grant.controllers
    ]  # fmt: skip
    subject = {"party_id": grant.subject, "party_name": None, "party_role": dpv.DATA_SUBJECT}
    return [*controllers, subject]


def _iso(grant: _Grant) -> dict[str, Any]:
    description, concepts, recipients = _purpose_facts(grant)
    record = {
        "schema": "https://w3id.org/dpv/schema/dpv-27560#record",
        "header": {"schema_version": "https://w3id.org/dpv/schema/dpv-27560#record",
                   "record_id": _receipt_id(grant, "iso27560"),
                   "pii_principal_id": grant.subject},
        "processing": {
            "privacy_notice": f"urn:ledger:notice:{grant.evidence.notice_version}",
            "language": grant.notice.language,
            "purposes": [{
                "purpose": description, "purpose_id": grant.purpose, "purpose_type": concepts,
                "lawful_basis": dpv.LAWFUL_BASES["consent"],
                "pii_controllers": list(grant.controllers),
                "pii_categories": [c.id for c in grant.notice.categories],
                "recipient_third_parties": recipients,
                "withdrawal_method": f"mailto:{grant.notice.privacy_contact.email}",
            }],
        },
        "parties": _parties(grant),
        "events": [{
            "event_time": utc_text(grant.occurred_at), "event_type": dpv.EXPRESSED_CONSENT,
            "event_state": dpv.CONSENT_GIVEN, "collection_method": grant.data.channel,
            "entity_id": grant.subject,
            "expires_at": None if grant.data.expires_at is None
            else utc_text(grant.data.expires_at),
        }],
        "ledger": grant.evidence.model_dump(mode="json"),
    }  # fmt: skip
    return record


def _kantara(grant: _Grant, key: Ed25519PrivateKey) -> dict[str, Any]:
    description, concepts, recipients = _purpose_facts(grant)
    named = {c.business_id: c for c in grant.notice.controllers}
    contact = grant.notice.privacy_contact
    controllers = [
        {"piiController": named[c].name if c in named else c, "piiControllerId": c,
         "contact": contact.name, "address": named[c].address if c in named else None,
         "email": str(contact.email), "phone": named[c].phone if c in named else None,
         "onBehalf": False}
        for c in grant.controllers
    ]  # fmt: skip
    purpose = {
        "purpose": description, "purposeCategory": concepts, "consentType": "EXPLICIT",
        "piiCategory": [c.id for c in grant.notice.categories], "primaryPurpose": False,
        "termination": _termination(grant), "thirdPartyDisclosure": bool(recipients),
        "thirdPartyName": recipients,
    }  # fmt: skip
    return {
        "version": "KI-CR-v1.1.0", "jurisdiction": "EU",
        "consentTimestamp": int(grant.occurred_at.timestamp()),
        "collectionMethod": grant.data.channel,
        "consentReceiptID": _receipt_id(grant, "kantara"),
        "publicKey": public_key_text(key), "language": grant.notice.language,
        "piiPrincipalId": grant.subject, "piiControllers": controllers,
        "policyUrl": f"urn:ledger:notice:{grant.evidence.notice_version}",
        "services": [{"service": grant.notice.name, "purposes": [purpose]}],
        "sensitive": False, "spiCat": [],
        "ledger": grant.evidence.model_dump(mode="json"),
    }  # fmt: skip
