"""Consent receipts: an ISO/IEC TS 27560 consent record and a Kantara Consent Receipt 1.1.

Both are written by ``ledger receipt`` and checked offline by ``ledger verify-receipt``.
Field names follow the outside documents (the W3C DPV guide "consent-27560" for the
record, Kantara's specification for the receipt), hence the camelCase of the Kantara
model. Every instant is an RFC 3339 string in UTC, so the signed bytes never depend
on how a reader formats times. Neither format ever holds a personal value: the
subject is named by its reference only.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Frozen

ISO_27560_SCHEMA: Final = "https://w3id.org/dpv/schema/dpv-27560#record"
KANTARA_VERSION: Final = "KI-CR-v1.1.0"
PROOF_FORMAT: Final = "consent-ledger/receipt-inclusion-proof/1"
SIGNATURE_ALGORITHM: Final = "Ed25519"


class InclusionProof(Frozen):
    """The grant event's RFC 9162 inclusion proof against a signed checkpoint."""

    format: Literal["consent-ledger/receipt-inclusion-proof/1"] = PROOF_FORMAT
    log_position: int = Field(ge=1, description="The grant event's position in the log.")
    leaf_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="Its leaf hash (hex).")
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    audit_path: list[str] = Field(description="RFC 9162 audit path, hex hashes, leaf first.")
    checkpoint: str = Field(description="The C2SP signed checkpoint note the path leads to.")
    verifier_key: str = Field(description="The C2SP note verifier key of the checkpoint.")


class ReceiptSignature(Frozen):
    """Ed25519 over the receipt's canonical JSON (keys sorted, no ``signature``)."""

    algorithm: Literal["Ed25519"] = SIGNATURE_ALGORITHM
    public_key: str = Field(description="The receipt public key, base64 of 32 bytes.")
    value: str = Field(description="The signature, base64 of 64 bytes.")


class LedgerEvidence(Frozen):
    """What the ledger adds to either format: where the grant is and how to check it."""

    purpose_id: str
    notice_version: str = Field(description="The notice version the consent was given under.")
    lawful_basis: str = Field(description="DPV GDPR IRI of the basis (Art. 6(1)(a)).")
    consent_state: str = Field(description="DPV IRI of the consent's state at `at`.")
    at: str = Field(description="The instant the receipt speaks about.")
    grant_event: InclusionProof


# --- ISO/IEC TS 27560 (after the DPV guide "consent-27560") ---------------------------


class RecordHeader(Frozen):
    """Header: which record, of whom, under which schema."""

    schema_version: Literal["https://w3id.org/dpv/schema/dpv-27560#record"] = ISO_27560_SCHEMA
    record_id: str
    pii_principal_id: str = Field(description="The subject's reference, never a personal value.")


class ProcessingPurpose(Frozen):
    """One purpose of the processing the consent is for."""

    purpose: str = Field(description="The register's description of the purpose.")
    purpose_id: str
    purpose_type: list[str] = Field(description="DPV purpose concepts.")
    lawful_basis: str
    pii_controllers: list[str] = Field(description="Party ids (business ids).")
    pii_categories: list[str] = Field(description="Categories the notice names.")
    recipient_third_parties: list[str] = Field(description="Recipient ids for the purpose.")
    withdrawal_method: str


class RecordProcessing(Frozen):
    """Processing: the notice and the purposes."""

    privacy_notice: str = Field(description="The notice version, as a URN.")
    language: str
    purposes: list[ProcessingPurpose]


class RecordParty(Frozen):
    """A party: a controller, or the subject."""

    party_id: str
    party_name: str | None
    party_role: str = Field(description="DPV IRI of the role.")
    party_address: str | None = None


class RecordEvent(Frozen):
    """A consent event: the grant, with its state."""

    event_time: str
    event_type: str = Field(description="How consent was expressed (DPV IRI).")
    event_state: str = Field(description="DPV IRI: ConsentGiven, ...")
    collection_method: str = Field(description="The channel it was given through.")
    entity_id: str = Field(description="Who gave it: the subject's reference.")
    expires_at: str | None


class ConsentRecord27560(Frozen):
    """``ledger receipt --format iso27560``: header, processing, parties, events."""

    schema_: Literal["https://w3id.org/dpv/schema/dpv-27560#record"] = Field(
        ISO_27560_SCHEMA, alias="schema"
    )
    header: RecordHeader
    processing: RecordProcessing
    parties: list[RecordParty]
    events: list[RecordEvent]
    ledger: LedgerEvidence
    signature: ReceiptSignature

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- Kantara Consent Receipt 1.1 ------------------------------------------------------


class KantaraController(Frozen):
    """A PII controller of the receipt."""

    piiController: str
    piiControllerId: str
    contact: str | None
    address: str | None
    email: str | None
    phone: str | None
    onBehalf: bool = False


class KantaraPurpose(Frozen):
    """A purpose of a service."""

    purpose: str
    purposeCategory: list[str]
    consentType: Literal["EXPLICIT", "IMPLICIT"] = "EXPLICIT"
    piiCategory: list[str]
    primaryPurpose: bool
    termination: str
    thirdPartyDisclosure: bool
    thirdPartyName: list[str]


class KantaraService(Frozen):
    """A service and the purposes consented to within it."""

    service: str
    purposes: list[KantaraPurpose]


class KantaraReceipt(Frozen):
    """``ledger receipt --format kantara``: the Kantara Consent Receipt 1.1 fields."""

    version: Literal["KI-CR-v1.1.0"] = KANTARA_VERSION
    jurisdiction: str
    consentTimestamp: int = Field(description="Seconds since the epoch of the grant.")
    collectionMethod: str
    consentReceiptID: str
    publicKey: str
    language: str
    piiPrincipalId: str
    piiControllers: list[KantaraController]
    policyUrl: str
    services: list[KantaraService]
    sensitive: bool
    spiCat: list[str]
    ledger: LedgerEvidence
    signature: ReceiptSignature


RECEIPTS: tuple[type[BaseModel], ...] = (ConsentRecord27560, KantaraReceipt)
