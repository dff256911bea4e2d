"""What changed between two versions of the privacy notice (pure: schemas and stdlib).

``diff_notices(old, new)`` compares two register definitions section by section:
items are matched by their id (a purpose's ``id``, a controller's ``business_id``,
a retention rule's ``category``), and each changed item lists the attributes that
differ, in the register's own words. A list or table attribute (a purpose's
``bases``, a category's ``fields``) also says which entries were added and removed,
so "marketing may now rest on legitimate interests" reads as ``bases: added
legitimate_interests``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.domain.rules import shown_id
from ledger.errors import NotKnown, Rule
from schemas.register import RegisterDefinition

SECTIONS: tuple[tuple[str, str], ...] = (
    ("controllers", "business_id"),
    ("purposes", "id"),
    ("categories", "id"),
    ("sources", "id"),
    ("recipients", "id"),
    ("retention", "category"),
)
"""The notice's lists and the attribute that identifies an item in each."""

STATEMENTS: tuple[str, ...] = (
    "name",
    "language",
    "privacy_contact",
    "automated_decisions",
    "security",
    "rights",
)
"""The notice's single statements, compared as a whole."""


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One attribute of an item (or of the notice) with its old and new value.

    ``added`` and ``removed`` are filled for list and table values: the entries
    (or, for a table, the keys) only the new or only the old value has.
    """

    attribute: str
    old: Any
    new: Any
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready data."""
        return {
            "attribute": self.attribute,
            "old": self.old,
            "new": self.new,
            "added": list(self.added),
            "removed": list(self.removed),
        }


@dataclass(frozen=True, slots=True)
class ItemChange:
    """An item present in both versions whose definition differs."""

    id: str
    changes: tuple[AttributeChange, ...]

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready data."""
        return {"id": self.id, "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True, slots=True)
class SectionDiff:
    """One list of the notice: items added, removed (as defined) and changed."""

    added: tuple[dict[str, Any], ...] = ()
    removed: tuple[dict[str, Any], ...] = ()
    changed: tuple[ItemChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        """The section's changes as JSON-ready data."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [c.as_dict() for c in self.changed],
        }


@dataclass(frozen=True, slots=True)
class NoticeDiff:
    """Everything that differs between two notice versions."""

    old: str
    new: str
    sections: dict[str, SectionDiff] = field(default_factory=dict)
    statements: tuple[AttributeChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.statements) or any(self.sections.values())

    def as_dict(self) -> dict[str, Any]:
        """The whole diff as JSON-ready data, every section present."""
        return {
            "old": self.old,
            "new": self.new,
            "changed": bool(self),
            "sections": {name: s.as_dict() for name, s in self.sections.items()},
            "statements": [c.as_dict() for c in self.statements],
        }


def find_notice(history: NoticeHistory, version: str, *, field: str = "version") -> NoticeVersion:
    """The published version with this label; ``NotKnown`` (naming it safely) otherwise."""
    found = history.get(version)
    if found is None:
        message = f"notice version {shown_id(version)} was never published"
        raise NotKnown(message, rule=Rule.UNKNOWN_NOTICE_VERSION, field=field)
    return found


def diff_notices(old: RegisterDefinition, new: RegisterDefinition) -> NoticeDiff:
    """What a reader of ``old`` needs to know about ``new``: section by section."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    sections = {
        name: _section(before.get(name) or [], after.get(name) or [], key) for name, key in SECTIONS
    }
    statements = tuple(
        change
        for name in STATEMENTS
        if (change := _attribute(name, before.get(name), after.get(name))) is not None
    )
    return NoticeDiff(old.version, new.version, sections, statements)


def _section(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]], key: str) -> SectionDiff:
    by_old = {str(item[key]): item for item in old}
    by_new = {str(item[key]): item for item in new}
    changed = []
    for item_id, item in by_new.items():
        earlier = by_old.get(item_id)
        if earlier is None or earlier == item:
            continue
        names = [*item, *(k for k in earlier if k not in item)]
        changes = tuple(
            change
            for name in names
            if (change := _attribute(name, earlier.get(name), item.get(name))) is not None
        )
        changed.append(ItemChange(item_id, changes))
    return SectionDiff(
        added=tuple(item for i, item in by_new.items() if i not in by_old),
        removed=tuple(item for i, item in by_old.items() if i not in by_new),
        changed=tuple(changed),
    )


def _attribute(name: str, old: Any, new: Any) -> AttributeChange | None:
    if old == new:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        added = tuple(str(k) for k in new if k not in old)
        removed = tuple(str(k) for k in old if k not in new)
        return AttributeChange(name, old, new, added, removed)
    if isinstance(old, list | None) and isinstance(new, list | None):
        was, now = [str(v) for v in old or []], [str(v) for v in new or []]
        added = tuple(v for v in now if v not in was)
        removed = tuple(v for v in was if v not in now)
        return AttributeChange(name, old, new, added, removed)
    return AttributeChange(name, old, new)
