"""A subject's lineage as W3C PROV-JSON (https://www.w3.org/submissions/prov-json/).

Built from the lineage answer (``Views.lineage``) and the notice history, never
from values: the answer holds none, and the document names data by category and
field only.

- **Entities**: each datum (``ledger:subject/REF/CATEGORY/FIELD``, a
  ``dpv:PersonalData``) and each value it was given (``.../FIELD/POSITION``, a
  specialisation of the datum, a revision of the value before it).
- **Activities**: one per event, named by its log position (``ledger:event/P``):
  recording, deriving (``ProfileDerived``), disclosing, processing and erasing.
  Each has its instant (``occurred_at``) as start and end, and its purpose.
- **Agents**: sources (``ledger:source/ID``, ``dpv:DataSource``), controllers
  (``ledger:controller/BUSINESS_ID``, ``dpv:DataController``) and recipients
  (``ledger:recipient/ID``, ``dpv:Recipient``).
- **Relations**: ``wasGeneratedBy`` (a value by its recording or derivation),
  ``used`` (what a derivation, disclosure or processing read: the values current at
  its instant), ``wasDerivedFrom`` (a derived value from those values; a revision
  from the value before), ``wasAttributedTo`` (a value to its source),
  ``wasAssociatedWith`` (an activity with its source, controllers and recipient),
  ``specializationOf`` and ``wasInvalidatedBy`` (a value by an erasure).

A controller is the one the event names; otherwise every controller of the
purpose in the notice in force at the event (``RegisterDefinition.controllers_of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ledger.domain.register import NoticeHistory
from schemas.answers import (
    ChangeAnswer,
    DatumLineage,
    DerivedAnswer,
    LineageAnswer,
    ProcessedAnswer,
    ReceivedAnswer,
)

LEDGER = "urn:ledger:"
"""The namespace of the ledger's own ids (subjects' data, events, sources, ...)."""
DPV = "https://w3id.org/dpv#"
"""The W3C Data Privacy Vocabulary."""
PREFIXES = {"ledger": LEDGER, "dpv": DPV}

Record = dict[str, Any]


def _qname(name: str) -> Record:
    """A qualified name as an attribute value (a PROV-JSON typed literal)."""
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def _time(at: datetime | str) -> str:
    return at if isinstance(at, str) else at.isoformat()


class _Document:
    """The PROV-JSON document under construction: records by kind, relations numbered."""

    def __init__(self, notices: NoticeHistory) -> None:
        self.notices = notices
        self.records: dict[str, dict[str, Record]] = {}
        self._related: set[str] = set()

    def add(self, kind: str, identifier: str, attributes: Record) -> str:
        """An element; one added again gains the new attributes (an event seen twice)."""
        self.records.setdefault(kind, {}).setdefault(identifier, {}).update(attributes)
        return identifier

    def relate(self, kind: str, **ends: Any) -> None:
        """A relation (``prov:`` attributes), once however often the answer implies it."""
        record = {f"prov:{k}": v for k, v in ends.items() if v is not None}
        key = repr((kind, sorted(record.items())))
        if key in self._related:
            return
        self._related.add(key)
        self.records.setdefault(kind, {})[f"_:{kind}{len(self._related)}"] = record

    def is_derived(self, category: str) -> bool:
        """A category some notice version says is built from others."""
        return any(
            found.derived
            for n in self.notices.versions
            if (found := n.definition.category(category)) is not None
        )

    def source(self, source_id: str) -> str:
        label = source_id
        for notice in reversed(self.notices.versions):
            found = next((s for s in notice.definition.sources if s.id == source_id), None)
            if found is not None:
                label = found.description
                break
        return self.add(
            "agent", f"ledger:source/{source_id}",
            {"prov:type": _qname("dpv:DataSource"), "prov:label": label},
        )  # fmt: skip

    def controllers(self, purpose: str, named: str | None, at: datetime | str) -> list[str]:
        """The controller the event names, else the purpose's in the notice then in force."""
        notice = self.notices.in_force(datetime.fromisoformat(_time(at)))
        names: dict[str, str] = {}
        ids: tuple[str, ...] = (named,) if named else ()
        if notice is not None:
            names = {c.business_id: c.name for c in notice.definition.controllers}
            ids = ids or notice.definition.controllers_of(purpose)
        out = []
        for business_id in ids:
            attributes: Record = {
                "prov:type": [_qname("prov:Organization"), _qname("dpv:DataController")]
            }
            if business_id in names:
                attributes["prov:label"] = names[business_id]
            out.append(self.add("agent", f"ledger:controller/{business_id}", attributes))
        return out

    def document(self) -> Record:
        return {"prefix": dict(PREFIXES), **self.records}


class _Subject:
    """One subject's data in the document: datum and value entities, current values."""

    def __init__(self, doc: _Document, answer: LineageAnswer) -> None:
        self.doc = doc
        self.base = f"ledger:subject/{quote(answer.subject, safe='')}"
        self.data = answer.data

    def datum(self, category: str, field: str) -> str:
        return self.doc.add(
            "entity", f"{self.base}/{category}/{field}",
            {"prov:type": _qname("dpv:PersonalData"), "prov:label": f"{category}.{field}",
             "ledger:category": category, "ledger:field": field},
        )  # fmt: skip

    def value(self, datum: DatumLineage, change: ChangeAnswer) -> str:
        return f"{self.base}/{datum.category}/{datum.field}/{change.position}"

    def current(self, category: str, at: str) -> list[str]:
        """What an activity at ``at`` read of a category: each field's value then.

        A field erased by then, or never recorded by then, is named by its datum.
        """
        instant = datetime.fromisoformat(at)
        out = []
        for datum in self.data:
            if datum.category != category:
                continue
            then = [c for c in datum.changes if c.occurred_at <= instant]
            if then and not then[-1].removed:
                out.append(self.value(datum, then[-1]))
            else:
                out.append(self.datum(datum.category, datum.field))
        return out


def lineage_prov(answer: LineageAnswer, notices: NoticeHistory) -> Record:
    """The lineage answer as a PROV-JSON document (a dict ready for JSON)."""
    doc = _Document(notices)
    subject = _Subject(doc, answer)
    derived_at = {row.position for d in answer.data for row in d.derived}
    for datum in answer.data:
        _history(doc, subject, datum, derived_at)
    for datum in answer.data:
        for derived in datum.derived:
            _derivation(doc, subject, datum, derived)
        for received in datum.received_by:
            _use(doc, subject, datum.category, received, recipient=received.recipient)
        for processed in datum.processed:
            _use(doc, subject, datum.category, processed)
    return doc.document()


def _activity(doc: _Document, position: int, kind: str, at: datetime | str, **extra: Any) -> str:
    attributes = {
        "prov:type": _qname(f"ledger:{kind}"), "prov:startTime": _time(at),
        "prov:endTime": _time(at), "ledger:position": position,
    } | {f"ledger:{k}": v for k, v in extra.items() if v is not None}  # fmt: skip
    return doc.add("activity", f"ledger:event/{position}", attributes)


def _history(doc: _Document, subject: _Subject, datum: DatumLineage, derived_at: set[int]) -> None:
    """A datum's values: each generated by its event, attributed to its source."""
    whole = subject.datum(datum.category, datum.field)
    previous: str | None = None
    for change in datum.changes:
        at = change.occurred_at
        if change.removed:
            activity = _activity(doc, change.position, "erasing", at)
            if previous is not None:
                doc.relate("wasInvalidatedBy", entity=previous, activity=activity, time=_time(at))
            previous = None
            continue
        derived = change.position in derived_at or doc.is_derived(datum.category)
        kind = "deriving" if derived else "recording"
        activity = _activity(doc, change.position, kind, at, recordedAt=_time(change.recorded_at))
        value = subject.value(datum, change)
        doc.add(
            "entity",
            value,
            {
                "prov:type": _qname("ledger:value"),
                "prov:label": f"{datum.category}.{datum.field} as of event {change.position}",
            },
        )
        doc.relate("specializationOf", generalEntity=whole, specificEntity=value)
        doc.relate("wasGeneratedBy", entity=value, activity=activity, time=_time(at))
        if previous is not None:
            doc.relate("wasDerivedFrom", generatedEntity=value, usedEntity=previous,
                       type=_qname("prov:Revision"))  # fmt: skip
        if change.source is not None:
            agent = doc.source(change.source)
            doc.relate("wasAttributedTo", entity=value, agent=agent)
            doc.relate("wasAssociatedWith", activity=activity, agent=agent)
        previous = value


def _derivation(doc: _Document, subject: _Subject, datum: DatumLineage, row: DerivedAnswer) -> None:
    """A derived category built (partly) from ``datum``'s category at ``row``'s event."""
    at, position = _time(row.occurred_at), row.position
    activity = _activity(doc, position, "deriving", at, purpose=row.purpose)
    used = subject.current(datum.category, at)
    made = _generated(doc, subject, row.category, position)
    for entity in used:
        doc.relate("used", activity=activity, entity=entity, time=at)
        for product in made:
            doc.relate("wasDerivedFrom", generatedEntity=product, usedEntity=entity,
                       activity=activity)  # fmt: skip
    _associate(doc, activity, doc.controllers(row.purpose, None, at))


def _generated(doc: _Document, subject: _Subject, category: str, position: int) -> list[str]:
    """The values a derivation generated, or its category when no field of it is shown."""
    made = [
        subject.value(d, c)
        for d in subject.data
        if d.category == category
        for c in d.changes
        if c.position == position and not c.removed
    ]
    if made:
        return made
    entity = doc.add(
        "entity", f"{subject.base}/{category}",
        {"prov:type": _qname("dpv:PersonalData"), "prov:label": category,
         "ledger:category": category},
    )  # fmt: skip
    doc.relate("wasGeneratedBy", entity=entity, activity=f"ledger:event/{position}")
    return [entity]


def _use(
    doc: _Document,
    subject: _Subject,
    category: str,
    row: ReceivedAnswer | ProcessedAnswer,
    *,
    recipient: str | None = None,
) -> None:
    """A disclosure or in-house processing of a category: what it used, who took part."""
    at = _time(row.occurred_at)
    what, named = (
        (row.activity, row.controller) if isinstance(row, ProcessedAnswer) else (None, None)
    )
    kind = "processing" if recipient is None else "disclosing"
    activity = _activity(doc, row.position, kind, at, purpose=row.purpose, activity=what,
                         recipient=recipient)  # fmt: skip
    for entity in subject.current(category, at):
        doc.relate("used", activity=activity, entity=entity, time=at)
    agents = doc.controllers(row.purpose, named, at)
    if recipient is not None:
        agents.append(
            doc.add(
                "agent", f"ledger:recipient/{recipient}", {"prov:type": _qname("dpv:Recipient")}
            )
        )
    _associate(doc, activity, agents)


def _associate(doc: _Document, activity: str, agents: Iterable[str]) -> None:
    for agent in agents:
        doc.relate("wasAssociatedWith", activity=activity, agent=agent)
