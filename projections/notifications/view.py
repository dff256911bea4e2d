"""What is owed under GDPR Art. 19, worked out from the facts the projection keeps.

A change is a rectification (a ``PersonalDataRecorded`` of a field the subject had
a value for already, earlier in its stream), an erasure (``PersonalDataErased``, or
``SubjectErased`` by ``ledger erase``: an erasure by retention is not a request under
Art. 17(1)) or a restriction (``ProcessingRestricted``). Every recipient that was
disclosed an affected category of the subject before the change (earlier
occurred_at, or the same instant and earlier in the stream) is owed a notification
until a ``RecipientNotified`` from that recipient regarding the change's position
closes it (``impossible`` closes it too: Art. 19's exception, with its reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ledger.persistence.views import ViewStore
from projections.base import instant
from projections.notifications.projection import ALL_CATEGORIES
from schemas.answers import OwedEvent, OwedNotification

RefsOf = Callable[[Iterable[UUID]], dict[UUID, str]]


@dataclass
class _Change:
    subject_id: str
    position: int
    type: str
    kind: str
    occurred_at: int
    recorded_at: int
    categories: set[str] = field(default_factory=set)


def _rows(store: ViewStore, table: str, subject_id: str | None, order: str) -> list[Any]:
    sql = f"SELECT * FROM {{t}}{table}"
    if subject_id is None:
        return store.query(f"{sql} ORDER BY {order}")
    return store.query(f"{sql} WHERE subject_id = ? ORDER BY {order}", [subject_id])


def _changes(store: ViewStore, subject_id: str | None) -> list[_Change]:
    """Erasures, restrictions and rectifications, by (subject, position)."""
    found: dict[tuple[str, int], _Change] = {}
    for r in _rows(store, "v_notify_changes", subject_id, "subject_id, position"):
        key = (r["subject_id"], r["position"])
        change = found.setdefault(key, _Change(
            r["subject_id"], r["position"], r["type"], r["kind"], r["occurred_at"],
            r["recorded_at"],
        ))  # fmt: skip
        change.categories.add(r["category"])
    recorded: set[tuple[str, str, str]] = set()
    for r in _rows(store, "v_notify_fields", subject_id, "subject_id, position, field"):
        sid, category, name = r["subject_id"], r["category"], r["field"]
        if (sid, category, name) in recorded:
            found.setdefault((sid, r["position"]), _Change(
                sid, r["position"], "PersonalDataRecorded", "rectification", r["occurred_at"],
                r["recorded_at"], {category},
            ))  # fmt: skip
        recorded.add((sid, category, name))
    return sorted(found.values(), key=lambda c: (c.occurred_at, c.position))


def list_owed(
    store: ViewStore,
    refs_of: RefsOf,
    *,
    subject_id: UUID | None = None,
    recipient: str | None = None,
) -> list[OwedNotification]:
    """Notifications owed (of one subject, to one recipient), oldest change first."""
    sid = None if subject_id is None else subject_id.hex
    disclosed: dict[str, list[Any]] = {}
    for r in _rows(store, "v_notify_disclosures", sid, "subject_id, occurred_at, position"):
        if recipient is None or r["recipient"] == recipient:
            disclosed.setdefault(r["subject_id"], []).append(r)
    if not disclosed:
        return []
    closed = {
        (r["subject_id"], r["recipient"], r["regarding"])
        for r in _rows(store, "v_notify_answers", sid, "subject_id, position")
    }
    owed: list[tuple[_Change, str, list[str], list[int]]] = []
    for change in _changes(store, sid):
        by_recipient: dict[str, tuple[set[str], set[int]]] = {}
        for d in disclosed.get(change.subject_id, ()):
            before = (d["occurred_at"], d["position"]) < (change.occurred_at, change.position)
            affected = ALL_CATEGORIES in change.categories or d["category"] in change.categories
            if before and affected:
                categories, positions = by_recipient.setdefault(d["recipient"], (set(), set()))
                categories.add(d["category"])
                positions.add(d["position"])
        for to, (categories, positions) in sorted(by_recipient.items()):
            if (change.subject_id, to, change.position) not in closed:
                owed.append((change, to, sorted(categories), sorted(positions)))
    refs = refs_of({UUID(c.subject_id) for c, *_ in owed})
    return [
        OwedNotification(
            subject=refs.get(UUID(c.subject_id)), recipient=to,
            event=OwedEvent(position=c.position, type=c.type, kind=c.kind,
                            occurred_at=instant(c.occurred_at), recorded_at=instant(c.recorded_at)),
            categories=categories, disclosures=positions, since=instant(c.occurred_at),
        )
        for c, to, categories, positions in owed
    ]  # fmt: skip
