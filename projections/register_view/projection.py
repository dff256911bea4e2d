"""Events -> rows of the register view. Values stay sealed: views hold no plaintext."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ledger.domain.basis import BASIS_TYPES
from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros
from projections.lawful_basis.columns import drop_if_outdated
from projections.lawful_basis.projection import _optional_micros

_FIELD_EVENTS = frozenset({"PersonalDataRecorded", "ProfileDerived"})


class RegisterViewProjection(Projection):
    """Subjects, field history (sealed), and contract/consent/objection events."""

    name = "register_view"
    tables = ("v_subjects", "v_fields", "v_sealed", "v_relations", "v_erasures")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_subjects (subject_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
        " controller TEXT NOT NULL, position {bigint} NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {t}v_fields (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, field TEXT NOT NULL, category TEXT NOT NULL,"
        " version {bigint} NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, source TEXT, removed INTEGER NOT NULL,"
        " upstream_reference TEXT, PRIMARY KEY (subject_id, position, field))",
        "CREATE TABLE IF NOT EXISTS {t}v_sealed (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, sealed TEXT NOT NULL, PRIMARY KEY (subject_id, position))",
        "CREATE TABLE IF NOT EXISTS {t}v_relations (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, type TEXT NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, purpose TEXT, controller TEXT, contract TEXT,"
        " metering_point TEXT, channel TEXT, evidence TEXT, notice_version TEXT,"
        " expires_at {bigint}, withdrawn_by TEXT, PRIMARY KEY (subject_id, position))",
        "CREATE TABLE IF NOT EXISTS {t}v_erasures (subject_id TEXT NOT NULL,"
        " position {bigint} NOT NULL, category TEXT NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, PRIMARY KEY (subject_id, position, category))",
    )

    added_columns: ClassVar[dict[str, tuple[str, ...]]] = {"v_relations": ("withdrawn_by",)}
    """Columns added after stores existed: a table without them is rebuilt (issue 15)."""

    def create(self) -> None:
        drop_if_outdated(self, self.added_columns)
        super().create()

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        subjects: list[tuple[Any, ...]] = []
        fields: list[tuple[Any, ...]] = []
        sealed: list[tuple[Any, ...]] = []
        relations: list[tuple[Any, ...]] = []
        erasures: list[tuple[Any, ...]] = []
        for e in events:
            sid, d = e.stream_id.hex, e.data
            at = (micros(e.occurred_at), micros(e.recorded_at))
            if e.type == "SubjectRegistered":
                subjects.append((sid, d["kind"], d["controller"], e.position, *at))
            elif e.type in _FIELD_EVENTS:
                upstream = d.get("upstream_reference")
                sealed.append((sid, e.position, d["fields"]["sealed"]))
                fields += [
                    (sid, e.position, name, d["category"], e.version, *at, e.source, 0, upstream)
                    for name in d["fields"]["names"]
                ]
            elif e.type == "PersonalDataErased":
                fields += [
                    (sid, e.position, name, d["category"], e.version, *at, e.source, 1, None)
                    for name in d["fields"]
                ]
            elif e.type == "SubjectErased":
                erasures += [(sid, e.position, c, *at) for c in d["erased"]]
            elif e.type in BASIS_TYPES:
                relations.append(
                    (sid, e.position, e.type, *at, d.get("purpose"), d.get("controller"),
                     d.get("contract"), d.get("metering_point"), d.get("channel"),
                     d.get("evidence"), d.get("notice_version"),
                     _optional_micros(d.get("expires_at")), d.get("withdrawn_by"))
                )  # fmt: skip
        tx.insert("v_subjects", subjects)
        tx.insert("v_fields", fields)
        tx.insert("v_sealed", sealed)
        tx.insert("v_relations", relations)
        tx.insert("v_erasures", erasures)
