"""Lineage of each datum: field history, derivations, disclosures, in-house processing."""

from __future__ import annotations

from uuid import UUID

from ledger.persistence.views import ViewStore
from projections.base import instant
from schemas.answers import ChangeAnswer, DatumLineage


def get_lineage(store: ViewStore, subject_id: UUID, field: str | None) -> list[DatumLineage]:
    """Each (category, field) the subject has had: source, changes, derived, received by."""
    sid = subject_id.hex
    fields = store.query(
        "SELECT * FROM {t}v_fields WHERE subject_id = ? ORDER BY occurred_at, position", (sid,)
    )
    derived = store.query("SELECT * FROM {t}v_derivations WHERE subject_id = ?", (sid,))
    disclosed = store.query("SELECT * FROM {t}v_disclosures WHERE subject_id = ?", (sid,))
    processed = store.query("SELECT * FROM {t}v_processing WHERE subject_id = ?", (sid,))
    changes: dict[tuple[str, str], list[ChangeAnswer]] = {}
    for r in fields:
        if field is not None and r["field"] != field:
            continue
        changes.setdefault((r["category"], r["field"]), []).append(
            ChangeAnswer(
                position=r["position"], occurred_at=instant(r["occurred_at"]),
                recorded_at=instant(r["recorded_at"]), source=r["source"],
                upstream_reference=r["upstream_reference"], removed=bool(r["removed"]),
            )
        )  # fmt: skip
    out = []
    for (category, name), history in sorted(changes.items()):
        current = next((c for c in reversed(history) if not c.removed), None)
        out.append(
            DatumLineage(
                category=category, field=name,
                source=None if current is None else current.source, changes=history,
                derived=[
                    {"position": d["position"], "category": d["category"], "purpose": d["purpose"],
                     "occurred_at": instant(d["occurred_at"]).isoformat()}
                    for d in derived if d["source_category"] == category
                ],
                received_by=[
                    {"position": d["position"], "recipient": d["recipient"],
                     "purpose": d["purpose"], "occurred_at": instant(d["occurred_at"]).isoformat()}
                    for d in disclosed if d["category"] == category
                ],
                processed=[
                    {"position": d["position"], "purpose": d["purpose"], "activity": d["activity"],
                     "controller": d["controller"],
                     "occurred_at": instant(d["occurred_at"]).isoformat()}
                    for d in processed if d["category"] == category
                ],
            )
        )  # fmt: skip
    return out
