"""``ledger notice show`` and ``notice diff`` as text: the register's own words, by section."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.domain.notice_diff import SECTIONS, AttributeChange, NoticeDiff
from ledger.domain.register import NoticeVersion
from ledger.faces.times import human_time
from schemas.register import RegisterDefinition

_STARTS = {
    "recorded": "from recording",
    "contract_ended": "after the last contract ends",
    "consent_withdrawn": "after the consent is withdrawn",
}
"""A retention rule's ``starts`` in words."""


def notice_lines(notice: NoticeVersion) -> Iterator[str]:
    """A published version as a reader of the notice sees it, section by section."""
    d = notice.definition
    yield f"notice {notice.version}: {d.name}"
    yield f"effective from {human_time(notice.effective_from)}; digest {notice.digest}"
    yield f"privacy contact: {d.privacy_contact.email}"
    yield "controllers:"
    for c in d.controllers:
        yield f"  {c.business_id}  {c.name}"
    yield "purposes:"
    for p in d.purposes:
        yield f"  {p.id}: {p.description}"
        controllers = ", ".join(d.controllers_of(p.id))
        yield f"    bases: {', '.join(p.bases)}; controllers: {controllers}"
        if p.note:
            yield f"    note: {p.note}"
    yield from _categories(d)
    yield "sources:"
    yield from (f"  {s.id}: {s.description}" for s in d.sources)
    yield from _recipients(d)
    yield "retention:"
    for r in d.retention:
        yield f"  {r.category}: {r.period} {_STARTS[r.starts]}" + (
            ", counted from the end of that calendar year" if r.end_of_year else ""
        )
        yield f"    {r.statement}"
        if r.legal_reference:
            yield f"    legal reference: {r.legal_reference}"
    exists = "yes" if d.automated_decisions.exists else "none"
    yield f"automated decisions: {exists}: {d.automated_decisions.statement}"


def _categories(d: RegisterDefinition) -> Iterator[str]:
    yield "categories:"
    for c in d.categories:
        kind = " (derived)" if c.derived else ""
        yield f"  {c.id}{kind}: {c.description}"
        yield "    fields: " + ", ".join(f"{name} ({kind})" for name, kind in c.fields.items())
        if c.controller:
            yield f"    controller: {c.controller}"


def _recipients(d: RegisterDefinition) -> Iterator[str]:
    yield "recipients:" if d.recipients else "recipients: none"
    for r in d.recipients:
        safeguard = f", safeguard: {r.safeguard}" if r.safeguard else ""
        yield f"  {r.id}: {r.name} ({r.role}, {r.country}{safeguard})"
        yield f"    purposes: {', '.join(r.purposes)}"


def diff_lines(diff: NoticeDiff) -> Iterator[str]:
    """What changed: ``+`` added, ``-`` removed, ``~`` changed; unchanged sections named."""
    yield f"notice {diff.old} -> {diff.new}"
    if not diff:
        yield "no changes"
        return
    same = []
    for name, key in SECTIONS:
        section = diff.sections[name]
        if not section:
            same.append(name)
            continue
        yield f"{name}:"
        yield from (f"  + {_summary(item, key)}" for item in section.added)
        yield from (f"  - {_summary(item, key)}" for item in section.removed)
        for item in section.changed:
            yield f"  ~ {item.id}"
            yield from (f"      {_change(c)}" for c in item.changes)
    if diff.statements:
        yield "notice:"
        yield from (f"  ~ {_change(c)}" for c in diff.statements)
    if same:
        yield f"unchanged: {', '.join(same)}"


def _summary(item: dict[str, Any], key: str) -> str:
    """An added or removed item: its id and its words (description, name or period)."""
    words = item.get("description") or item.get("name") or item.get("statement") or ""
    bases = f" [bases: {', '.join(item['bases'])}]" if "bases" in item else ""
    period = f" [{item['period']} from {item['starts']}]" if "period" in item else ""
    return f"{item[key]}{bases}{period}: {words}".rstrip(": ")


def _change(change: AttributeChange) -> str:
    if change.added or change.removed:
        parts = [f"+{v}" for v in change.added] + [f"-{v}" for v in change.removed]
        retyped = _retyped(change)
        return f"{change.attribute}: {' '.join(parts + retyped)}"
    if isinstance(change.old, dict) and isinstance(change.new, dict):
        return f"{change.attribute}: {' '.join(_retyped(change))}"
    return f"{change.attribute}: {_value(change.old)} -> {_value(change.new)}"


def _retyped(change: AttributeChange) -> list[str]:
    """A table's entries whose value changed (a field's type): ``name: text -> email``."""
    if not (isinstance(change.old, dict) and isinstance(change.new, dict)):
        return []
    return [
        f"{k}: {_value(v)} -> {_value(change.new[k])}"
        for k, v in change.old.items()
        if k in change.new and change.new[k] != v
    ]


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
