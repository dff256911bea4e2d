"""IRIs of the W3C Data Privacy Vocabulary (DPV) and its GDPR extension used by receipts."""

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


def purpose_concepts(*, direct_marketing: bool) -> list[str]:
    """The DPV purpose concepts of a register purpose."""
    return [DIRECT_MARKETING] if direct_marketing else [SERVICE_PROVISION]
