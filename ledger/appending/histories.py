"""What the judge knows of each subject's stored stream, kept between calls.

Judging a line (a use, recorded data, a late fact) needs its subject's history:
basis facts, erasures, restrictions, uses and the findings so far. Reading the
whole stream on every call made each append cost as much as the subject's past,
and a service appending for the same customers all day re-read and re-decoded
the same events each time.

``HistoryCache`` keeps, per subject reference, the history folded from the stored
events up to a version. A call asks the store only for the events past that
version (``Prefetch.streams``, filtered by ``since`` in the same statement as the
other look-ups) and folds them in with the same code that reads a whole stream
(``read_histories``), so what is known is exactly what a full read would give.
Only what the store returned is cached, never what a call is about to write: a
call that is then refused or rolled back leaves nothing behind, and events
written by this call or by another writer are simply past the cached version next
time. A reference that now names another stream (erased, then registered again)
is read from the start. The judge works on copies. At most ``capacity`` subjects
are kept, the least recently used dropped first.

When a call is written, what it wrote is folded in too (``written``): the cache then
knows each written subject's stream id and last version, and its history when the
history reached the version the call wrote after. It folds the states the call
encoded, as the call built them, with ``fold_event`` (what ``read_histories`` applies
to each decoded row): nothing just written is decoded again. That is what lets the
next call for the same subjects skip the prefetch (``ledger.appending.known``): were
it stale (another writer appended since), the write itself is refused by the
stream's unique version and the call reads the store again. The fold runs after
the commit, or, on PostgreSQL, while the server writes a large call's last chunk and
commits (``Ledger._write``); should that write fail, the call's subjects are
forgotten (``forget``) and read again, so a call rolled back leaves nothing behind.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.appending.judging import SubjectHistory, fold_event, read_histories
from ledger.persistence.mapper import PydanticMapper, as_uuid

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent

WrittenState = tuple[str | None, int, str, Mapping[str, Any]]
"""An event a call wrote: (its subject's reference, None for another stream; its version
in the stream; its type; the state it encoded, as built)."""

CAPACITY = 10_000
"""Subjects whose histories are kept (a few kilobytes each)."""


@dataclass(frozen=True, slots=True)
class Known:
    """What the process knows of one subject reference's stream."""

    subject_id: UUID
    version: int
    """The stream's last version known to be stored."""
    history: SubjectHistory | None
    """The history folded from every event up to ``version``; None: not read."""


def copy_history(history: SubjectHistory) -> SubjectHistory:
    """A history the judge may change without changing ``history`` (items are frozen)."""
    return SubjectHistory(
        history.facts.copy(), history.last_recorded.copy(), history.erasures.copy(),
        history.restrictions.copy(), history.uses.copy(), history.recorded.copy(),
    )  # fmt: skip


class HistoryCache:
    """Judged subjects' histories as far as the store has been read (see the module)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = max(0, capacity)
        self._known: OrderedDict[str, Known] = OrderedDict()

    def since(self, refs: Sequence[str]) -> tuple[list[UUID | None], list[int]]:
        """For each reference: the stream it was read from (None: never) and how far."""
        known = [self._known.get(ref) for ref in refs]
        known = [None if k is None or k.history is None else k for k in known]
        return (
            [None if k is None else k.subject_id for k in known],
            [0 if k is None else k.version for k in known],
        )

    def known(self, ref: str) -> Known | None:
        """What is known of a reference's stream (None: nothing)."""
        return self._known.get(ref)

    def histories(
        self,
        refs: Iterable[str],
        subjects: Mapping[str, UUID],
        rows: Iterable[StoredEvent],
        mapper: PydanticMapper,
    ) -> dict[UUID, SubjectHistory]:
        """The judged subjects' histories: what was known, with ``rows`` folded in.

        ``rows``: the stored events past each reference's cached version (all of them
        when the reference now names another stream), in stream order. Returns copies
        for the judge; the cache keeps the folded originals.
        """
        by_stream: dict[UUID, list[StoredEvent]] = {}
        for row in rows:
            by_stream.setdefault(as_uuid(row.originator_id), []).append(row)
        out: dict[UUID, SubjectHistory] = {}
        for ref in refs:
            subject_id = subjects.get(ref)
            if subject_id is None:
                continue  # not registered yet: nothing stored to know
            known = self._known.pop(ref, None)
            if known is not None and (known.subject_id != subject_id or known.history is None):
                known = None  # another stream now, or never read: read from the start
            new = by_stream.get(subject_id, [])
            base = SubjectHistory() if known is None or known.history is None else known.history
            if new:
                base = read_histories(new, mapper, into={subject_id: base})[subject_id]
            version = max([0 if known is None else known.version,
                           *(r.originator_version for r in new)])  # fmt: skip
            self._remember(ref, Known(subject_id, version, base))
            out[subject_id] = copy_history(base)
        return out

    def written(
        self,
        streams: Mapping[str, tuple[UUID, int]],
        events: Sequence[WrittenState],
        registered: Iterable[str] = (),
    ) -> None:
        """Fold in what a committed call wrote.

        ``streams``: each written subject's reference -> (stream id, the version the
        call wrote after); ``events``: what the call wrote, in order (the states as it
        built them, folded as they are: nothing is decoded again); ``registered``: the
        references the call registered (their streams were empty before it). A
        history is extended only when it reached the version the call wrote after;
        otherwise only the new version is kept, and the history is read again when a
        judged line needs it.
        """
        last = {ref: version for ref, version, _, _ in events}  # in order: the last
        new = set(registered)
        folding: dict[str | None, SubjectHistory] = {}
        cache = self._known
        for ref, (subject_id, after) in streams.items():
            version = last.get(ref)
            if version is None:
                continue
            known = cache.pop(ref, None)
            history: SubjectHistory | None = None
            if ref in new:
                history = SubjectHistory()
            elif known is not None and known.version == after and known.subject_id == subject_id:
                history = known.history
            if history is not None:
                folding[ref] = history
            if self._capacity:
                cache[ref] = Known(subject_id, version, history)
        self._trim()
        if folding:
            for subject, version, topic, state in events:
                history = folding.get(subject)
                if history is not None:
                    fold_event(history, version, topic, state)

    def forget(self, subject_ids: Collection[UUID]) -> None:
        """Drop what is known of these streams (the ledger itself wrote to them)."""
        for ref in [r for r, k in self._known.items() if k.subject_id in subject_ids]:
            del self._known[ref]

    def _remember(self, ref: str, known: Known) -> None:
        if not self._capacity:
            return
        self._known[ref] = known
        self._trim()

    def _trim(self) -> None:
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (the next calls read whole streams again)."""
        self._known.clear()
