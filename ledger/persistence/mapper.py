"""The pydantic mapper: recorded events <-> stored events, sealing personal values.

* The topic is the event's type name from the contract (``ConsentGranted``), never
  a Python path, so moving or renaming a class does not strand stored events.
* ``class_version`` is written when above 1 and upcast on read with the event
  class's ``upcast_vN_vN+1`` static methods (the library's Mapper does this for
  its own events; the documented pydantic mapper does not).
* The ``fields`` values of sealed types are encrypted under the subject's key for
  the category; when that key was destroyed the event reads back with no values
  and the category listed in ``erased``, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent

from ledger.errors import ConfigurationError
from ledger.integrity.leaf import event_leaf_hash
from schemas.events import EVENT_TYPES, SEALED_TYPES, LedgerEvent

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

    from ledger.persistence.keys import KeyRing

_ENVELOPE_ONLY = {"originator_id", "originator_version", "type", "erased"}


def as_uuid(value: Any) -> UUID:
    """A stream id as UUID, whichever way the backend returned it (UUID or hex text)."""
    return value if isinstance(value, UUID) else UUID(str(value))


def stored_leaf(n: Notification) -> bytes:
    """The RFC 9162 leaf hash of a stored event as the recorder returns it."""
    return event_leaf_hash(n.id, as_uuid(n.originator_id), n.originator_version, n.topic, n.state)


@dataclass(frozen=True, slots=True)
class RawEvent:
    """A stored event decoded for projections: no model validation, values still sealed.

    Stored states were validated on append; projections read millions of them, so
    they skip pydantic and keep personal values sealed (views never hold plaintext).
    """

    position: int
    stream_id: UUID
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str | None
    data: dict[str, Any]


class PydanticMapper(Mapper[UUID]):
    """Maps the ledger's pydantic events to the library's StoredEvent and back."""

    keyring: KeyRing | None = None

    def _ring(self) -> KeyRing:
        if self.keyring is None:
            msg = "the mapper has no key ring: open the ledger with its master key"
            raise ConfigurationError(msg)
        return self.keyring

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """A recorded event as the row the log stores (values sealed)."""
        event = cast("LedgerEvent", domain_event)
        state = event.model_dump(mode="json", exclude=_ENVELOPE_ONLY)
        return self.stored_from_state(
            event.originator_id,
            event.originator_version,
            event.type,
            state,
            event.recorded_at,
        )

    def stored_from_state(
        self,
        originator_id: UUID,
        originator_version: int,
        topic: str,
        state: dict[str, Any],
        now: datetime,
    ) -> StoredEvent:
        """Seal and encode a JSON-ready event state (the append path's fast entry).

        ``state`` is the caller's to give away: it and its ``data`` are changed in
        place (``data["fields"]`` keeps its place among the keys, so the bytes are
        those of a copy with the sealed fields).
        """
        if topic in SEALED_TYPES:
            data = state["data"]
            fields = data["fields"]
            sealed = self._ring().seal(
                originator_id,
                originator_version,
                data["category"],
                orjson.dumps(fields),
                now,
            )
            data["fields"] = {"names": sorted(fields), "sealed": sealed}
        # The topic's own version, whatever ``state`` was copied from (a finding's
        # state is its judged line's, which may carry that line's version).
        class_version = EVENT_TYPES[topic].class_version
        if class_version > 1:
            state["class_version"] = class_version
        else:
            state.pop("class_version", None)
        # StoredEvent's fields in order: positional arguments bind faster.
        return StoredEvent(originator_id, originator_version, topic, self.transcoder.encode(state))

    def upcast(self, topic: str, state: dict[str, Any]) -> dict[str, Any]:
        """Bring a stored state up to its event class's current version.

        Findings appended before 2026-12-01 may carry the ``class_version`` of the
        line they judged (2, from a ``PersonalDataRecorded``) although
        ``FindingRecorded`` is at version 1: the first upcaster of ``FindingRecorded``
        must tell those apart (their data has the v1 shape) rather than trust it.
        """
        cls = EVENT_TYPES.get(topic)
        if cls is None:
            msg = f"stored event has an unknown topic {topic!r}"
            raise MapperDeserialisationError(msg)
        from_version = state.pop("class_version", 1)
        while from_version < cls.class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        return state

    def to_raw(self, notification: Notification) -> RawEvent:
        """A notification as a RawEvent for projections."""
        state = self.upcast(notification.topic, self.transcoder.decode(notification.state))
        return RawEvent(
            position=notification.id,
            stream_id=as_uuid(notification.originator_id),
            version=notification.originator_version,
            type=notification.topic,
            occurred_at=datetime.fromisoformat(state["occurred_at"]),
            recorded_at=datetime.fromisoformat(state["recorded_at"]),
            actor=state["actor"],
            source=state.get("source"),
            data=state["data"],
        )

    def open_fields(
        self, stream_id: UUID, version: int, category: str, sealed: str
    ) -> dict[str, Any] | None:
        """The values of one sealed ``fields`` object; None when its key was destroyed."""
        opened = self._ring().open(stream_id, version, category, sealed)
        return None if opened is None else cast("dict[str, Any]", orjson.loads(opened))

    def to_domain_event(self, stored_event: StoredEvent) -> LedgerEvent:
        """A stored row as its recorded event, values opened when their key exists."""
        cls = EVENT_TYPES.get(stored_event.topic)
        if cls is None:
            msg = f"stored event has an unknown topic {stored_event.topic!r}"
            raise MapperDeserialisationError(msg)
        originator_id = as_uuid(stored_event.originator_id)
        try:
            state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        except orjson.JSONDecodeError as e:
            msg = f"stored event {originator_id} v{stored_event.originator_version}: {e}"
            raise MapperDeserialisationError(msg) from e
        state = self.upcast(stored_event.topic, state)
        erased: tuple[str, ...] = ()
        if stored_event.topic in SEALED_TYPES:
            data = state["data"]
            opened = self._ring().open(
                originator_id,
                stored_event.originator_version,
                data["category"],
                data["fields"]["sealed"],
            )
            if opened is None:
                erased = (data["category"],)
                data["fields"] = {}
            else:
                data["fields"] = orjson.loads(opened)
        state.update(
            originator_id=originator_id,
            originator_version=stored_event.originator_version,
            type=stored_event.topic,
            erased=erased,
        )
        return cls.model_validate(state, context={"recorded": True})
