"""W3C Data Privacy Vocabulary (DPV) IRIs for the ledger's ids (stdlib only).

Namespaces: DPV ``https://w3id.org/dpv#`` and its GDPR extension
``https://w3id.org/dpv/legal/eu/gdpr#``. Answers carry these beside their own ids.
"""

from __future__ import annotations

DPV = "https://w3id.org/dpv#"
"""The DPV namespace."""
EU_GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"
"""The DPV GDPR extension's namespace."""

CONSENT_GIVEN = f"{DPV}ConsentGiven"
CONSENT_WITHDRAWN = f"{DPV}ConsentWithdrawn"
CONSENT_EXPIRED = f"{DPV}ConsentExpired"
CONSENT_REVOKED = f"{DPV}ConsentRevoked"
EXPRESSED_CONSENT = f"{DPV}ExpressedConsent"

DATA_CONTROLLER = f"{DPV}DataController"
DATA_PROCESSOR = f"{DPV}DataProcessor"
DATA_SUBJECT = f"{DPV}DataSubject"
SERVICE_PROVISION = f"{DPV}ServiceProvision"
DIRECT_MARKETING = f"{DPV}DirectMarketing"

LAWFUL_BASES: dict[str, str] = {
    "consent": f"{EU_GDPR}A6-1-a",
    "contract": f"{EU_GDPR}A6-1-b",
    "legal_obligation": f"{EU_GDPR}A6-1-c",
    "vital_interests": f"{EU_GDPR}A6-1-d",
    "public_task": f"{EU_GDPR}A6-1-e",
    "legitimate_interests": f"{EU_GDPR}A6-1-f",
}
"""The register's lawful bases (GDPR Art. 6(1)) as DPV GDPR IRIs."""

EVENT_TYPES: dict[str, str] = {
    "PersonalDataRecorded": f"{DPV}Record",
    "PersonalDataErased": f"{DPV}Erase",
    "SubjectErased": f"{DPV}Erase",
    "ConsentGranted": CONSENT_GIVEN,
    "ConsentWithdrawn": CONSENT_WITHDRAWN,
    "ObjectionRecorded": f"{EU_GDPR}A21",
    "ProfileDerived": f"{DPV}Derive",
    "DataDisclosed": f"{DPV}Disclose",
    "DataProcessed": f"{DPV}Use",
    "ProcessingRestricted": f"{EU_GDPR}A18",
    "RecipientNotified": f"{EU_GDPR}A19",
    "AutomatedDecisionMade": f"{DPV}AutomatedDecisionMaking",
    "PersonalDataAccessed": f"{DPV}Access",
}
"""Event types with a DPV concept: processing operations, consent states, rights."""

RIGHTS: dict[str, str] = {
    "access": f"{EU_GDPR}A15",
    "rectification": f"{EU_GDPR}A16",
    "erasure": f"{EU_GDPR}A17",
    "restriction": f"{EU_GDPR}A18",
    "notification": f"{EU_GDPR}A19",
    "portability": f"{EU_GDPR}A20",
    "objection": f"{EU_GDPR}A21",
    "automated_decision": f"{EU_GDPR}A22",
}
"""Data subject rights (GDPR Art. 15-22) as DPV GDPR IRIs."""

RECIPIENT_ROLES: dict[str, str] = {
    "processor": DATA_PROCESSOR,
    "controller": DATA_CONTROLLER,
    "authority": f"{DPV}Authority",
}
"""Recipient roles as DPV entity concepts."""

SAFEGUARDS: dict[str, str] = {
    "adequacy_decision": f"{EU_GDPR}A45-3",
    "standard_contractual_clauses": f"{EU_GDPR}A46-2-c",
    "binding_corporate_rules": f"{EU_GDPR}A47",
    "code_of_conduct": f"{EU_GDPR}A46-2-e",
    "certification": f"{EU_GDPR}A46-2-f",
    "derogation": f"{EU_GDPR}A49",
}
"""Transfer safeguards (GDPR Chapter V) as DPV GDPR IRIs."""

TRANSFER = f"{DPV}Transfer"
DISCLOSE = f"{DPV}Disclose"
USE = f"{DPV}Use"


def basis(basis_id: str) -> str | None:
    """The GDPR IRI of a lawful basis id, or None for an unknown id."""
    return LAWFUL_BASES.get(basis_id)


def event_type(type_id: str | None) -> str | None:
    """The DPV concept of an event type, or None where none fits."""
    return None if type_id is None else EVENT_TYPES.get(type_id)


def purpose_concepts(*, direct_marketing: bool) -> list[str]:
    """The DPV purpose concepts of a register purpose."""
    return [DIRECT_MARKETING] if direct_marketing else [SERVICE_PROVISION]
