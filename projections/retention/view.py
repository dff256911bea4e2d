"""The retention question, answered from the register-view and basis-fact tables.

Reads four aggregates (last recorded value per subject and category, last
erasure per subject and category, the basis facts, the purposes each derived
category was made for) and applies each category's rule from the notice in force
at ``at``: a rule counted from the end of consent reads the consents of the
purposes a derived category was made for (any other category: every purpose).
A category erased after its last value has nothing left to retain and is not listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

from ledger.domain.basis import Fact
from ledger.domain.register import NoticeHistory
from ledger.domain.retention import Consents, status
from ledger.persistence.views import ViewStore
from projections.base import instant
from projections.lawful_basis.view import row_fact
from schemas.answers import RetentionEntry

RefsOf = Callable[[Iterable[UUID]], dict[UUID, str]]


def _held_data(store: ViewStore) -> dict[tuple[str, str], tuple[datetime, int]]:
    """(subject, category) -> (last recorded, last position), erased ones left out."""
    fields = store.query(
        "SELECT subject_id, category, MAX(occurred_at) AS last, MAX(position) AS pos"
        " FROM {t}v_fields WHERE removed = 0 GROUP BY subject_id, category"
    )
    erasures = store.query(
        "SELECT subject_id, category, MAX(position) AS pos FROM {t}v_erasures"
        " GROUP BY subject_id, category"
    )
    erased = {(r["subject_id"], r["category"]): r["pos"] for r in erasures}
    return {
        (r["subject_id"], r["category"]): (instant(r["last"]), r["pos"])
        for r in fields
        if erased.get((r["subject_id"], r["category"]), 0) < r["pos"]
    }


def _facts(store: ViewStore) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = defaultdict(list)
    for r in store.query("SELECT * FROM {t}v_basis_facts"):
        out[r["subject_id"]].append(row_fact(r))
    return out


def _derived_for(store: ViewStore) -> dict[tuple[str, str], set[str]]:
    """(subject, derived category) -> the purposes it was derived for."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in store.query("SELECT DISTINCT subject_id, category, purpose FROM {t}v_derivations"):
        out[(r["subject_id"], r["category"])].add(r["purpose"])
    return out


def list_retention(
    store: ViewStore, refs_of: RefsOf, notices: NoticeHistory, at: datetime, *, kept: bool = False
) -> list[RetentionEntry]:
    """Every (subject, category) that is due or held at ``at`` (and kept, if asked)."""
    notice = notices.in_force(at)
    if notice is None:
        return []
    data = _held_data(store)
    facts = _facts(store)
    derived = _derived_for(store)
    marketing = {p.id for p in notice.definition.purposes if p.direct_marketing}
    refs = refs_of({UUID(sid) for sid, _ in data})
    out: list[RetentionEntry] = []
    for (sid, category), (last, _) in sorted(data.items()):
        rule = notice.index.retention.get(category)
        ref = refs.get(UUID(sid))
        if rule is None or ref is None:
            continue
        consents = Consents(derived.get((sid, category)), marketing)
        state = status(rule, last_recorded=last, facts=facts.get(sid, []), at=at, consents=consents)
        verdict = "due" if state.due else "held" if state.held else "kept"
        if verdict == "kept" and not kept:
            continue
        out.append(
            RetentionEntry(
                subject=ref, category=category, status=verdict, since=state.since,
                until=state.until, rule=rule.statement, legal_reference=rule.legal_reference,
                reason=state.reason,
            )
        )  # fmt: skip
    return out
