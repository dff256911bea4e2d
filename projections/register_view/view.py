"""The register view of one subject at an instant, as known at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain.consent import SUBJECT, consent_state
from ledger.persistence.views import ViewStore
from projections.base import instant, micros
from schemas.answers import (
    ConsentAnswer,
    ContractAnswer,
    FieldValueAnswer,
    ObjectionAnswer,
    SubjectAnswer,
)

Opener = Callable[[UUID, int, str, str], dict[str, Any] | None]
"""Opens a sealed fields object: (stream, version, category, sealed) -> values or None."""


def _window(subject_id: UUID, at: datetime, known_at: datetime | None) -> tuple[str, list[Any]]:
    where = "subject_id = ? AND occurred_at <= ?"
    params: list[Any] = [subject_id.hex, micros(at)]
    if known_at is not None:
        where += " AND recorded_at <= ?"
        params.append(micros(known_at))
    return where, params


def _fields(
    store: ViewStore, subject_id: UUID, where: str, params: list[Any], open_sealed: Opener
) -> tuple[dict[str, dict[str, FieldValueAnswer]], list[str]]:
    rows = store.query(
        f"SELECT * FROM {{t}}v_fields WHERE {where} ORDER BY occurred_at, position", params
    )
    latest: dict[tuple[str, str], Any] = {}
    for r in rows:  # later occurrence (then later position) replaces earlier
        latest[(r["category"], r["field"])] = r
    blobs = {
        b["position"]: b["sealed"]
        for b in store.query("SELECT position, sealed FROM {t}v_sealed WHERE subject_id = ?",
                             (subject_id.hex,))
    }  # fmt: skip
    opened: dict[int, dict[str, Any] | None] = {}
    out: dict[str, dict[str, FieldValueAnswer]] = {}
    erased: set[str] = set()
    for (category, name), r in sorted(latest.items()):
        if r["removed"]:
            continue  # removed by PersonalDataErased
        if r["position"] not in opened:
            blob = blobs[r["position"]]
            opened[r["position"]] = open_sealed(subject_id, r["version"], category, blob)
        values = opened[r["position"]]
        if values is None:
            erased.add(category)
        out.setdefault(category, {})[name] = FieldValueAnswer(
            value=None if values is None else values.get(name),
            erased=values is None,
            source=r["source"],
            occurred_at=instant(r["occurred_at"]),
            recorded_at=instant(r["recorded_at"]),
            position=r["position"],
        )
    return out, sorted(erased)


def _contracts(rows: list[Any]) -> list[ContractAnswer]:
    spans: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["controller"], r["contract"])
        if r["type"] not in ("ContractStarted", "ContractEnded"):
            continue
        span = spans.setdefault(
            key,
            {"controller": key[0], "contract": key[1], "metering_point": None,
             "started_at": None, "ended_at": None},
        )  # fmt: skip
        if r["type"] == "ContractStarted":
            span["started_at"] = instant(r["occurred_at"])
            span["metering_point"] = r["metering_point"]
        else:
            span["ended_at"] = instant(r["occurred_at"])
    return [ContractAnswer(**s) for s in spans.values()]


def _consents(rows: list[Any], at: datetime) -> list[ConsentAnswer]:
    """The consents granted by ``at``, each with its withdrawal and its state at ``at``."""
    out: list[dict[str, Any]] = []
    for r in rows:
        if r["type"] == "ConsentGranted":
            out.append({"purpose": r["purpose"], "channel": r["channel"],
                        "evidence": r["evidence"], "notice_version": r["notice_version"],
                        "granted_at": instant(r["occurred_at"]), "position": r["position"],
                        "expires_at": None if r["expires_at"] is None else instant(r["expires_at"]),
                        "withdrawn_at": None, "withdrawn_by": None})  # fmt: skip
        elif r["type"] == "ConsentWithdrawn":
            for consent in out:
                if consent["purpose"] == r["purpose"] and consent["withdrawn_at"] is None:
                    consent["withdrawn_at"] = instant(r["occurred_at"])
                    consent["withdrawn_by"] = r["withdrawn_by"] or SUBJECT
    return [ConsentAnswer(**c, state=_state(c, at)) for c in out]


def _state(consent: dict[str, Any], at: datetime) -> str:
    return consent_state(
        at=at,
        expires_at=consent["expires_at"],
        withdrawn_at=consent["withdrawn_at"],
        withdrawn_by=consent["withdrawn_by"],
    )


def get_subject(
    store: ViewStore,
    open_sealed: Opener,
    *,
    subject: str,
    subject_id: UUID,
    at: datetime,
    known_at: datetime | None,
) -> SubjectAnswer:
    """The subject's register entry at ``at`` as the ledger knew it at ``known_at``."""
    where, params = _window(subject_id, at, known_at)
    registered = store.query(f"SELECT * FROM {{t}}v_subjects WHERE {where}", params)
    fields, erased = _fields(store, subject_id, where, params, open_sealed)
    relations = store.query(
        f"SELECT * FROM {{t}}v_relations WHERE {where} ORDER BY occurred_at, position", params
    )
    reg = registered[0] if registered else None
    shredded = store.query(f"SELECT category FROM {{t}}v_erasures WHERE {where}", params)
    erased = sorted(set(erased) | {r["category"] for r in shredded})
    return SubjectAnswer(
        subject=subject,
        at=at,
        known_at=known_at,
        kind=None if reg is None else reg["kind"],
        controller=None if reg is None else reg["controller"],
        registered_at=None if reg is None else instant(reg["occurred_at"]),
        fields=fields,
        contracts=_contracts(relations),
        consents=_consents(relations, at),
        objections=[
            ObjectionAnswer(
                purpose=r["purpose"], occurred_at=instant(r["occurred_at"]), position=r["position"]
            )
            for r in relations
            if r["type"] == "ObjectionRecorded"
        ],
        erased=erased,
    )
