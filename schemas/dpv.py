"""W3C Data Privacy Vocabulary (DPV) IRIs for the ledger's ids (stdlib only).

Namespaces: DPV ``https://w3id.org/dpv#`` and its GDPR extension
``https://w3id.org/dpv/legal/eu/gdpr#``. Answers carry these beside their own ids.
"""

from __future__ import annotations

from typing import NamedTuple

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

TRANSFER = f"{DPV}Transfer"
DISCLOSE = f"{DPV}Disclose"
USE = f"{DPV}Use"
DERIVE = f"{DPV}Derive"
ERASE = f"{DPV}Erase"

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
    "PersonalDataErased": ERASE,
    "SubjectErased": ERASE,
    "ConsentGranted": CONSENT_GIVEN,
    "ConsentWithdrawn": CONSENT_WITHDRAWN,
    "ObjectionRecorded": f"{EU_GDPR}A21",
    "ProfileDerived": DERIVE,
    "DataDisclosed": DISCLOSE,
    "DataProcessed": USE,
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

CONSENT_STATES: dict[str, str] = {
    "given": CONSENT_GIVEN,
    "withdrawn": CONSENT_WITHDRAWN,
    "expired": CONSENT_EXPIRED,
    "revoked": CONSENT_REVOKED,
}
"""A consent's state at an instant as a DPV consent status: withdrawn is the subject's
act (dpv:ConsentWithdrawn), revoked anyone else's (dpv:ConsentRevoked)."""

COMPLIANCE_VIOLATION = f"{DPV}ComplianceViolation"
UNLAWFUL = f"{DPV}Unlawful"
LAWFUL = f"{DPV}Lawful"

LAWFULNESS_PRINCIPLE = f"{EU_GDPR}LawfulnessPrinciple"
PURPOSE_LIMITATION = f"{EU_GDPR}PurposeLimitationPrinciple"
TRANSPARENCY_PRINCIPLE = f"{EU_GDPR}TransparencyPrinciple"
DATA_PROCESSING_AGREEMENT = f"{DPV}DataProcessingAgreement"
UNINFORMED_CONSENT = f"{DPV}UninformedConsent"


class RuleTerm(NamedTuple):
    """The DPV terms of a finding rule: what it is about, the status it finds, and why."""

    concept: str | None
    status: str
    note: str


FINDING_RULES: dict[str, RuleTerm] = {
    "disclosure_outside_agreement": RuleTerm(
        PURPOSE_LIMITATION,
        COMPLIANCE_VIOLATION,
        "Disclosed for a purpose or categories the recipient's agreement does not cover:"
        " purpose limitation, GDPR Art. 5(1)(b).",
    ),
    "disclosure_to_ended_recipient": RuleTerm(
        DATA_PROCESSING_AGREEMENT,
        COMPLIANCE_VIOLATION,
        "Disclosed after the recipient's agreement ended: no agreement in force (Art. 28(3)).",
    ),
    "disclosure_to_unregistered_recipient": RuleTerm(
        DATA_PROCESSING_AGREEMENT,
        COMPLIANCE_VIOLATION,
        "Disclosed to a recipient with no agreement registered (Art. 28(3)).",
    ),
    "no_lawful_basis": RuleTerm(
        LAWFULNESS_PRINCIPLE,
        UNLAWFUL,
        "No basis of Art. 6(1) held at the instant: lawfulness, Art. 5(1)(a).",
    ),
    "processing_without_consent": RuleTerm(
        LAWFUL_BASES["consent"],
        UNLAWFUL,
        "The purpose rests on consent (Art. 6(1)(a)) and none held at the instant.",
    ),
    "automated_decision_not_in_notice": RuleTerm(
        TRANSPARENCY_PRINCIPLE,
        COMPLIANCE_VIOLATION,
        "An automated decision while the notice says there are none: transparency,"
        " Art. 5(1)(a), 13(2)(f).",
    ),
    "erased_data_used": RuleTerm(
        RIGHTS["erasure"],
        COMPLIANCE_VIOLATION,
        "Data erased on an Art. 17 request was used afterwards.",
    ),
    "held_data_used_outside_hold": RuleTerm(
        PURPOSE_LIMITATION,
        COMPLIANCE_VIOLATION,
        "Data kept only for a statutory hold was used for another purpose: purpose"
        " limitation, Art. 5(1)(b).",
    ),
    "data_recorded_after_erasure": RuleTerm(
        RIGHTS["erasure"],
        COMPLIANCE_VIOLATION,
        "Personal data recorded after an Art. 17 erasure request, with no new basis since.",
    ),
    "consent_under_wrong_notice": RuleTerm(
        UNINFORMED_CONSENT,
        UNLAWFUL,
        "A consent naming a notice version not in force at its grant is not informed"
        " (Art. 4(11), 7(1)): no basis.",
    ),
    "processing_while_restricted": RuleTerm(
        RIGHTS["restriction"],
        COMPLIANCE_VIOLATION,
        "Processing of a category restricted under Art. 18 beyond storing it.",
    ),
    "finding_lifted": RuleTerm(
        None,
        LAWFUL,
        "No DPV concept names withdrawing an earlier finding: a late grant made the use"
        " lawful, so its status is dpv:Lawful and its concept null.",
    ),
}
"""Each finding rule (ARCHITECTURE.md, "Finding rules") as its nearest DPV / DPV GDPR
concept; ``concept`` None where none fits, with the reason in ``note``."""


def basis(basis_id: str) -> str | None:
    """The GDPR IRI of a lawful basis id, or None for an unknown id."""
    return LAWFUL_BASES.get(basis_id)


def event_type(type_id: str | None) -> str | None:
    """The DPV concept of an event type, or None where none fits."""
    return None if type_id is None else EVENT_TYPES.get(type_id)


def purpose_concepts(*, direct_marketing: bool) -> list[str]:
    """The DPV purpose concepts of a register purpose."""
    return [DIRECT_MARKETING] if direct_marketing else [SERVICE_PROVISION]


def consent_state(state: str) -> str:
    """The DPV consent status of a consent state (given, withdrawn, expired, revoked)."""
    return CONSENT_STATES[state]


def finding_rule(rule: str) -> str | None:
    """The DPV concept a finding rule is about, or None where none fits (or unknown)."""
    term = FINDING_RULES.get(rule)
    return None if term is None else term.concept


def finding_status(rule: str) -> str | None:
    """The compliance status a finding of ``rule`` records, or None for an unknown rule."""
    term = FINDING_RULES.get(rule)
    return None if term is None else term.status
