"""IRIs of the W3C Data Privacy Vocabulary (DPV) used by receipts (defined in schemas.dpv)."""

from __future__ import annotations

from schemas.dpv import (
    CONSENT_EXPIRED,
    CONSENT_GIVEN,
    CONSENT_REVOKED,
    CONSENT_WITHDRAWN,
    DATA_CONTROLLER,
    DATA_SUBJECT,
    DIRECT_MARKETING,
    DPV,
    EU_GDPR,
    EXPRESSED_CONSENT,
    LAWFUL_BASES,
    SERVICE_PROVISION,
    purpose_concepts,
)

__all__ = [
    "CONSENT_EXPIRED",
    "CONSENT_GIVEN",
    "CONSENT_REVOKED",
    "CONSENT_WITHDRAWN",
    "DATA_CONTROLLER",
    "DATA_SUBJECT",
    "DIRECT_MARKETING",
    "DPV",
    "EU_GDPR",
    "EXPRESSED_CONSENT",
    "LAWFUL_BASES",
    "SERVICE_PROVISION",
    "purpose_concepts",
]
