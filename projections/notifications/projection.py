"""Disclosures, changes and notifications -> the facts Art. 19's question is answered from.

Rows are facts, one per event (no state read back while applying), so a replay
writes exactly the same rows; ``view.py`` works out what is owed. Each table's first
three columns are its key (the rebuild tests order rows by them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros

ALL_CATEGORIES = "*"
"""The category of a change that covers all the subject's data (a restriction of all)."""


class NotificationsProjection(Projection):
    """Disclosed categories, recorded fields, erasures and restrictions, notifications."""

    name = "notifications"
    tables = ("v_notify_disclosures", "v_notify_fields", "v_notify_changes", "v_notify_answers")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_notify_disclosures (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, category TEXT NOT NULL, recipient TEXT NOT NULL,"
        " occurred_at {bigint} NOT NULL, PRIMARY KEY (subject_id, position, category))",
        "CREATE INDEX IF NOT EXISTS v_notify_disclosures_by_recipient"
        " ON {t}v_notify_disclosures (recipient, subject_id)",
        "CREATE TABLE IF NOT EXISTS {t}v_notify_fields (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, field TEXT NOT NULL, category TEXT NOT NULL,"
        " occurred_at {bigint} NOT NULL, recorded_at {bigint} NOT NULL,"
        " PRIMARY KEY (subject_id, position, field))",
        "CREATE TABLE IF NOT EXISTS {t}v_notify_changes (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, category TEXT NOT NULL, type TEXT NOT NULL,"
        " kind TEXT NOT NULL, occurred_at {bigint} NOT NULL, recorded_at {bigint} NOT NULL,"
        " PRIMARY KEY (subject_id, position, category))",
        "CREATE TABLE IF NOT EXISTS {t}v_notify_answers (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, recipient TEXT NOT NULL, regarding {bigint} NOT NULL,"
        " impossible INTEGER NOT NULL, reason TEXT, reference TEXT,"
        " occurred_at {bigint} NOT NULL, PRIMARY KEY (subject_id, position))",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        disclosures: list[tuple[Any, ...]] = []
        fields: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        answers: list[tuple[Any, ...]] = []
        for e in events:
            sid, d = e.stream_id.hex, e.data
            at = (micros(e.occurred_at), micros(e.recorded_at))
            if e.type == "DataDisclosed":
                disclosures += [
                    (sid, e.position, c, d["recipient"], at[0]) for c in d["categories"]
                ]
            elif e.type == "PersonalDataRecorded":
                # A rectification when a field was recorded before (decided in view.py).
                fields += [(sid, e.position, n, d["category"], *at) for n in d["fields"]["names"]]
            elif e.type == "PersonalDataErased":
                changes.append((sid, e.position, d["category"], e.type, "erasure", *at))
            elif e.type == "SubjectErased" and d["scope"] != "retention":
                changes += [(sid, e.position, c, e.type, "erasure", *at) for c in d["erased"]]
            elif e.type == "ProcessingRestricted":
                scope = d.get("categories") or [ALL_CATEGORIES]
                changes += [(sid, e.position, c, e.type, "restriction", *at) for c in scope]
            elif e.type == "RecipientNotified":
                impossible = int(bool(d.get("impossible")))
                answers.append(
                    (sid, e.position, d["recipient"], d["regarding"], impossible,
                     d.get("reason"), d.get("reference"), at[0])
                )  # fmt: skip
        tx.insert("v_notify_disclosures", disclosures)
        tx.insert("v_notify_fields", fields)
        tx.insert("v_notify_changes", changes)
        tx.insert("v_notify_answers", answers)
