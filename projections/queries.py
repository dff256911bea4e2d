"""The read side's entry point: answers from the views, after catching them up.

Every answer first catches the views up to the log's head (incrementally: only
what was appended since), so a command run right after an append sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ledger.appending.application import Ledger
from ledger.domain.rules import shown_id, shown_name
from ledger.errors import NotKnown, Rule
from ledger.persistence.views import ViewStore
from projections.access_log.view import list_accesses
from projections.audit_trail.view import list_trail
from projections.disclosures.view import breach, list_disclosures
from projections.findings.view import list_findings
from projections.lawful_basis.view import get_basis
from projections.lineage.view import get_lineage
from projections.notifications.view import list_owed
from projections.register_view.view import get_subject
from projections.runner import ProjectionRunner
from schemas.answers import (
    AccessLogAnswer,
    BasisAnswer,
    DisclosuresAnswer,
    FindingsAnswer,
    LineageAnswer,
    NotificationsAnswer,
    SubjectAnswer,
    TrailAnswer,
)


class Views:
    """Queries over the projections of one ledger."""

    def __init__(self, ledger: Ledger, store: ViewStore, *, catch_up: bool = True) -> None:
        self.ledger = ledger
        self.runner = ProjectionRunner(ledger, store=store)
        self.store = store
        if catch_up:
            self.runner.catch_up()

    # --- names a question may use: defined in any published notice version ----------

    def known_purpose(self, purpose: str) -> None:
        """Refuse a purpose no published notice version defines (``NotKnown``)."""
        if not any(purpose in n.index.purposes for n in self.ledger.notices.versions):
            msg = f"unknown purpose {_shown(purpose)}: no published notice version defines it"
            raise NotKnown(msg, rule=Rule.UNKNOWN_PURPOSE, field="purpose")

    def known_categories(self, categories: Iterable[str], *, field: str = "categories") -> None:
        """Refuse categories no published notice version defines, naming each (safely)."""
        versions = self.ledger.notices.versions
        unknown = sorted(
            {c for c in categories if not any(c in n.index.categories for n in versions)}
        )
        if unknown:
            names = ", ".join(_shown(c) for c in unknown)
            msg = f"unknown category {names}: no published notice version defines it"
            raise NotKnown(msg, rule=Rule.UNKNOWN_CATEGORY, field=field)

    def known_data_field(self, name: str) -> None:
        """Refuse a field name that no category of any published notice version holds."""
        categories = (c for n in self.ledger.notices.versions for c in n.index.categories.values())
        if not any(name in c.fields for c in categories):
            msg = f"unknown field {_shown(name)}: no category of a published notice version has it"
            raise NotKnown(msg, rule=Rule.UNKNOWN_DATA_FIELD, field="field")

    def known_recipient(self, recipient: str) -> None:
        """Refuse a recipient that no notice version names and no event registered."""
        if any(recipient in n.index.recipients for n in self.ledger.notices.versions):
            return
        if recipient not in self.ledger.registered_recipients():
            msg = (
                f"unknown recipient {shown_id(recipient)}: neither in a published notice"
                " version nor registered"
            )
            raise NotKnown(msg, rule=Rule.UNKNOWN_RECIPIENT, field="recipient")

    # --- answers --------------------------------------------------------------------

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

    def findings(self, since: datetime | None, known_at: datetime | None = None) -> FindingsAnswer:
        """Findings recorded since an instant, with their evidence.

        ``known_at``: only those recorded by then (what was known at that instant).
        """
        found = list_findings(
            self.store, self.ledger.ledger_recorder.select_refs, self.ledger.leaf_hashes, since,
            known_at,
        )  # fmt: skip
        return FindingsAnswer(since=since, known_at=known_at, findings=found)

    def lineage(self, subject: str, field: str | None = None) -> LineageAnswer:
        """Each datum's source, changes, derivations and recipients (of ``field`` only)."""
        if field is not None:
            self.known_data_field(field)
        data = get_lineage(self.store, self.ledger.subject_id(subject), field)
        return LineageAnswer(subject=subject, data=data)

    def disclosures(
        self,
        *,
        recipient: str | None = None,
        subject: str | None = None,
        category: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        by_subject: bool = False,
    ) -> DisclosuresAnswer:
        """Disclosures matching the filters; ``by_subject`` adds the breach summary."""
        if recipient is not None:
            self.known_recipient(recipient)
        if category is not None:
            self.known_categories([category], field="category")
        subject_id = None if subject is None else self.ledger.subject_id(subject)
        found = list_disclosures(
            self.store, self.ledger.ledger_recorder.select_refs, recipient=recipient,
            subject_id=subject_id, category=category, since=since, until=until,
        )  # fmt: skip
        return DisclosuresAnswer(
            recipient=recipient, subject=subject, category=category, since=since, until=until,
            disclosures=found, subjects=breach(found) if by_subject else None,
        )  # fmt: skip

    def notifications(
        self, *, subject: str | None = None, recipient: str | None = None
    ) -> NotificationsAnswer:
        """Notifications owed to recipients under GDPR Art. 19 (of a subject, to a recipient)."""
        if recipient is not None:
            self.known_recipient(recipient)
        subject_id = None if subject is None else self.ledger.subject_id(subject)
        owed = list_owed(
            self.store, self.ledger.ledger_recorder.select_refs,
            subject_id=subject_id, recipient=recipient,
        )  # fmt: skip
        return NotificationsAnswer(subject=subject, recipient=recipient, owed=owed)

    def access_log(
        self, since: datetime | None = None, subject: str | None = None
    ) -> AccessLogAnswer:
        """Recorded reads of decrypted personal data (since an instant, of a subject)."""
        subject_id = None if subject is None else self.ledger.subject_id(subject)
        records = list_accesses(
            self.store, self.ledger.ledger_recorder.select_refs, since=since,
            subject_id=subject_id,
        )  # fmt: skip
        return AccessLogAnswer(since=since, subject=subject, records=records)

    def basis(
        self,
        subject: str,
        purpose: str,
        *,
        at: datetime,
        known_at: datetime | None,
        timeline: bool = False,
        controller: str | None = None,
    ) -> BasisAnswer:
        """The lawful basis for the purpose at ``at`` (for ``controller``), with evidence."""
        self.known_purpose(purpose)
        return get_basis(
            self.store,
            self.ledger.leaf_hashes,
            subject=subject,
            subject_id=self.ledger.subject_id(subject),
            purpose=purpose,
            at=at,
            known_at=known_at,
            timeline=timeline,
            controller=controller,
        )


def _shown(name: str) -> str:
    """A register name quoted, or an unsafe one by its length only (never personal data)."""
    shown = shown_name(name)
    return repr(shown) if shown == name else shown
