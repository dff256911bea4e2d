"""An append that skips its prefetch: what the process knows stands in for the read.

A service appending one line at a time for customers it has written before reads,
on every call, what it already knows: the subject's stream id, its last version,
its data keys, its history for the judge. ``known_reads`` answers those from
``HistoryCache`` and the ``KeyRing`` instead, so the call costs one round trip (the
write) instead of two.

Nothing is trusted that the write does not check again:

* a stream version another writer took since is refused by the events table's
  unique (stream, version), and so is a data key (``ledger_keys``' primary key):
  every change of a subject's keys (an erasure, a new category's key) appends to
  its stream, so stale keys come with a stale version;
* a reference assumed new (a registration of a reference not known here) that
  another writer registered is refused by ``ledger_subjects``' primary key;
* an idempotency key assumed unused is refused by ``ledger_idempotency``'s;
* the notice and recipient streams the lines were checked against are compared
  with the store's under the writer's lock (``SideRows.expected``).

Any such refusal rolls the whole call back, and the application checks it again
after a full read. A call whose lines break a rule is checked again after a full
read too before it is refused: a refusal always rests on what the store holds.
Lines about a reference not known here, recipient lines (they write the recipient
stream) and judged lines whose subject's history is not known take the full read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from ledger.appending.batch import ParsedLine
from ledger.appending.histories import HistoryCache, copy_history
from ledger.appending.judging import JUDGED_TYPES, LATE_TYPES, SubjectHistory
from ledger.persistence.keys import KeyRing
from ledger.persistence.recorders import Prefetch
from schemas import events as ev

_WATCHED = JUDGED_TYPES | LATE_TYPES
"""Lines whose subject's history the judge needs."""


@dataclass(frozen=True, slots=True)
class KnownReads:
    """What a call's prefetch would have returned, from the process's memory."""

    found: Prefetch
    histories: dict[UUID, SubjectHistory]


def known_reads(
    parsed: Sequence[ParsedLine], histories: HistoryCache, keyring: KeyRing
) -> KnownReads | None:
    """The call's reads without the store, or None when anything is not known here."""
    subjects: dict[str, UUID] = {}
    versions: dict[UUID, int] = {}
    judged: dict[UUID, SubjectHistory] = {}
    registering: set[str] = set()
    for p in parsed:
        line = p.line
        if not isinstance(line, ev._SubjectLine):
            return None  # a recipient line: it writes the recipient stream
        ref = line.subject
        if isinstance(line, ev.SubjectRegisteredLine):
            if ref in registering or ref in subjects or histories.known(ref) is not None:
                return None  # registered already: the full read tells the rule
            registering.add(ref)
            continue
        if ref in registering:
            continue  # registered earlier in this call
        known = histories.known(ref)
        if known is None:
            return None
        subjects[ref] = known.subject_id
        versions[known.subject_id] = known.version
        if p.line.type in _WATCHED:
            if known.history is None:
                return None
            judged[known.subject_id] = known.history
    if not keyring.holds(versions):
        return None
    # Copied only now: a call that needs the full read copies nothing here.
    copies = {sid: copy_history(history) for sid, history in judged.items()}
    return KnownReads(Prefetch(subjects, {}, versions, [], []), copies)
