"""Basis facts -> rows of ``v_basis_facts``; restrictions (Art. 18) -> ``v_restrictions``.

The intervals follow from the facts; whether processing is restricted at an instant
from the restrictions and their lifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from ledger.domain.basis import BASIS_TYPES, ERASURE, RESTRICTION_TYPES
from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros
from projections.lawful_basis.columns import drop_if_outdated


def _optional_micros(text: str | None) -> int | None:
    return None if text is None else micros(datetime.fromisoformat(text))


def _categories(categories: list[str] | None) -> str | None:
    """Category codes (lower snake case) space-separated; None: all of the subject's data."""
    return None if categories is None else " ".join(categories)


class LawfulBasisProjection(Projection):
    """One row per contract, consent, objection and whole-subject erasure, by subject."""

    name = "lawful_basis"
    tables = ("v_basis_facts", "v_restrictions")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_basis_facts (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, type TEXT NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, purpose TEXT, controller TEXT, contract TEXT,"
        " notice_version TEXT, expires_at {bigint}, withdrawn_by TEXT,"
        " PRIMARY KEY (subject_id, position))",
        "CREATE TABLE IF NOT EXISTS {t}v_restrictions (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, type TEXT NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, categories TEXT, controller TEXT,"
        " PRIMARY KEY (subject_id, position))",
    )

    added_columns: ClassVar[dict[str, tuple[str, ...]]] = {"v_basis_facts": ("withdrawn_by",)}
    """Columns added after stores existed: a table without them is rebuilt (issue 15)."""

    def create(self) -> None:
        drop_if_outdated(self, self.added_columns)
        super().create()

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows = []
        restrictions = [
            (e.stream_id.hex, e.position, e.type, micros(e.occurred_at), micros(e.recorded_at),
             _categories(e.data.get("categories")), e.data.get("controller"))
            for e in events
            if e.type in RESTRICTION_TYPES
        ]  # fmt: skip
        for e in events:
            if e.type not in BASIS_TYPES and not (
                e.type == ERASURE and e.data.get("scope") == "subject"
            ):
                continue
            d = e.data
            rows.append(
                (e.stream_id.hex, e.position, e.type, micros(e.occurred_at), micros(e.recorded_at),
                 d.get("purpose"), d.get("controller"), d.get("contract"),
                 d.get("notice_version"), _optional_micros(d.get("expires_at")),
                 d.get("withdrawn_by"))
            )  # fmt: skip
        tx.insert("v_basis_facts", rows)
        tx.insert("v_restrictions", restrictions)
