"""Read models built from the log: ``PROJECTIONS`` is the one list everything uses.

The runner, ``ledger rebuild``, ``ledger replay --compare``, the command line and
the tests all take their projections from here.
"""

from __future__ import annotations

from projections.access_log.projection import AccessLogProjection
from projections.audit_trail.projection import AuditTrailProjection
from projections.base import Projection
from projections.disclosures.projection import DisclosuresProjection
from projections.findings.projection import FindingsProjection
from projections.lawful_basis.projection import LawfulBasisProjection
from projections.lineage.projection import LineageProjection
from projections.notices.projection import NoticesProjection
from projections.notifications.projection import NotificationsProjection
from projections.processing.projection import ProcessingProjection
from projections.recipients.projection import RecipientsProjection
from projections.register_view.projection import RegisterViewProjection

PROJECTIONS: tuple[type[Projection], ...] = (
    NoticesProjection,
    AuditTrailProjection,
    RegisterViewProjection,
    LawfulBasisProjection,
    RecipientsProjection,
    DisclosuresProjection,
    ProcessingProjection,
    LineageProjection,
    FindingsProjection,
    NotificationsProjection,
    AccessLogProjection,
)
