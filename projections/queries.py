"""The read side's entry point: answers from the views, after catching them up.

Every answer first catches the views up to the log's head (incrementally: only
what was appended since), so a command run right after an append sees it.
"""

from __future__ import annotations

from datetime import datetime

from ledger.application import Ledger
from projections.audit_trail.view import list_trail
from projections.lawful_basis.view import get_basis
from projections.register_view.view import get_subject
from projections.runner import ProjectionRunner
from schemas.answers import BasisAnswer, SubjectAnswer, TrailAnswer


class Views:
    """Queries over the projections of one ledger."""

    def __init__(self, ledger: Ledger, *, catch_up: bool = True) -> None:
        self.ledger = ledger
        self.runner = ProjectionRunner(ledger)
        self.store = self.runner.store
        if catch_up:
            self.runner.catch_up()

    def trail(self, subject: str) -> TrailAnswer:
        """Every event of the subject in order."""
        subject_id = self.ledger.subject_id(subject)
        return TrailAnswer(subject=subject, events=list_trail(self.store, subject_id))

    def subject(self, subject: str, *, at: datetime, known_at: datetime | None) -> SubjectAnswer:
        """The register view of the subject."""
        return get_subject(
            self.store,
            self.ledger.open_fields,
            subject=subject,
            subject_id=self.ledger.subject_id(subject),
            at=at,
            known_at=known_at,
        )

    def basis(
        self,
        subject: str,
        purpose: str,
        *,
        at: datetime,
        known_at: datetime | None,
        timeline: bool = False,
    ) -> BasisAnswer:
        """The lawful basis for the purpose at ``at``, with evidence."""
        return get_basis(
            self.store,
            self.ledger.leaf_hashes,
            subject=subject,
            subject_id=self.ledger.subject_id(subject),
            purpose=purpose,
            at=at,
            known_at=known_at,
            timeline=timeline,
        )
