"""``ledger verify``: prove the log from its events, against checkpoints it cannot rewrite.

Trust comes from outside the store, never from it:

- **The key.** The verifier key given by the caller (``--public-key``), else the
  configured verifier key file beside the keys (``<name>.verifier.key``, written at
  the first seal), else, said so in the report (``key_source: store`` and a
  warning), the key the store itself holds, which proves nothing against whoever
  can write to the store.
- **The checkpoints.** Every checkpoint anchored outside the store (the append-only
  ``<name>.checkpoints`` file, :mod:`ledger.evidence.anchor`) and every one an
  auditor gives (``--checkpoint FILE``) is opened with the key; the store's own
  checkpoints are opened with it too.

Then the log is streamed once (bounded memory but for the side-table sets below):
each stored event's leaf hash is recomputed and the tree rebuilt from the events
alone (the stored Merkle tables are only compared, to name an altered, missing or
inserted position, never trusted). At the size of every checkpoint, stored,
anchored or given, the rebuilt root must be its signed root. A store holding fewer
events than an anchored or given checkpoint was truncated or rolled back; an
anchored checkpoint missing from the store, or different there, is named; events
after the newest checkpoint are ``unsealed``; events with no checkpoint at all are
``no_checkpoint``. Never ok in any of these cases.

The side tables are checked against the log too: every destroyed data key must be
matched by a ``SubjectErased`` of its subject and category after the key was
first used, every sealed value must name a key row that exists, and (with the
master key) every subject reference must carry its binding
(:mod:`ledger.evidence.binding`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson

from ledger.errors import ConfigurationError
from ledger.evidence.anchor import AnchorRead, AnchorRecord
from ledger.evidence.binding import readable_index_key, subject_binding
from ledger.evidence.sealing import Sealer, SignedCheckpoint
from ledger.integrity.checkpoint import CheckpointError, open_checkpoint, parse_verifier_key
from ledger.integrity.leaf import event_leaf_hash
from ledger.integrity.merkle import TreeBuilder
from ledger.persistence.mapper import as_uuid
from schemas.events import SEALED_TYPES

Progress = Callable[[int, int], None]

STORE_KEY_WARNING = (
    "the verifier key was read from the store being verified: whoever can write to the"
    " store can replace the key and re-sign the log, so this proves nothing against them;"
    " verify with --public-key and a copy of the key kept elsewhere"
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong, with where."""

    kind: str
    message: str
    position: int | None = None
    size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "kind": self.kind,
            "position": self.position,
            "size": self.size,
            "message": self.message,
        }


@dataclass(slots=True)
class Report:
    """What ``verify`` found."""

    events: int = 0
    sealed: int = 0
    unsealed: int = 0
    checkpoint: SignedCheckpoint | None = None
    key_source: str = "store"
    anchor: str | None = None
    anchored: int = 0
    given: int = 0
    unbound_subjects: int = 0
    side_tables: str = "checked"
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem at all."""
        return not self.problems

    @property
    def key_warning(self) -> str | None:
        """Said whenever the key came from the store being verified."""
        return STORE_KEY_WARNING if self.key_source == "store" else None

    def add(self, kind: str, message: str, *, position: int | None = None,
            size: int | None = None) -> None:  # fmt: skip
        """Record a problem."""
        self.problems.append(Problem(kind, message, position=position, size=size))

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON shape."""
        cp = self.checkpoint
        return {
            "ok": self.ok,
            "events": self.events,
            "sealed": self.sealed,
            "unsealed": self.unsealed,
            "checkpoint": (
                None if cp is None else {"size": cp.size, "root": cp.root.hex(), "note": cp.note}
            ),
            "verifier_key_from": self.key_source,
            "verifier_key_warning": self.key_warning,
            "anchor": self.anchor,
            "anchored_checkpoints": self.anchored,
            "given_checkpoints": self.given,
            "unbound_subjects": self.unbound_subjects,
            "side_tables": self.side_tables,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass(slots=True)
class _Trusted:
    """A checkpoint from outside the store, opened with the key."""

    size: int
    root: bytes
    note: str
    where: str
    bindings_from: int | None = None


@dataclass(slots=True)
class _SideFacts:
    """What the log says about keys and subjects, gathered while streaming it."""

    registered: dict[UUID, int] = field(default_factory=dict)
    references_removed: set[UUID] = field(default_factory=set)
    first_use: dict[tuple[UUID, str, int], int] = field(default_factory=dict)
    last_erasure: dict[tuple[UUID, str], int] = field(default_factory=dict)
    unreadable: list[int] = field(default_factory=list)

    def observe(self, position: int, stream: UUID, topic: str, state: bytes) -> None:
        if topic == "SubjectRegistered":
            self.registered[stream] = position
            return
        if topic not in SEALED_TYPES and topic != "SubjectErased":
            return
        try:
            data = orjson.loads(state)["data"]
            if topic == "SubjectErased":
                for category in data["erased"]:
                    self.last_erasure[(stream, category)] = position
                if data.get("reference_removed"):
                    self.references_removed.add(stream)
                return
            blob = base64.b64decode(data["fields"]["sealed"][:8])
            use = (stream, data["category"], int.from_bytes(blob[1:5]))
        except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error):
            self.unreadable.append(position)
            return
        self.first_use.setdefault(use, position)


def _events(sealer: Sealer, page: int, facts: _SideFacts) -> Iterator[tuple[int, bytes]]:
    """(position, recomputed leaf hash) of every stored event, streamed in log order."""
    store = sealer.store
    table = sealer.ledger.recorder.events_table_name  # type: ignore[attr-defined]
    position = "rowid" if store.kind == "sqlite" else "notification_id"
    sql = (
        f"SELECT {position} AS position, originator_id, originator_version, topic, state"
        f" FROM {{t}}{table} ORDER BY {position}"
    )
    for n, originator, version, topic, state in store.stream(sql, page, tuples=True):
        stream, raw = as_uuid(originator), bytes(state)
        facts.observe(n, stream, topic, raw)
        yield n, event_leaf_hash(n, stream, version, topic, raw)


def _leaves(sealer: Sealer, page: int) -> Iterator[tuple[int, int, bytes]]:
    sql = "SELECT leaf_index, position, hash FROM {t}ledger_merkle_leaves ORDER BY leaf_index"
    for index, position, digest in sealer.store.stream(sql, page, tuples=True):
        yield index, position, bytes(digest)


class _Walk:
    """Merge the stored events with the sealed leaves by position, rebuilding the tree."""

    def __init__(
        self,
        report: Report,
        stored: dict[int, SignedCheckpoint],
        trusted: dict[int, _Trusted],
        last_sealed: int,
    ) -> None:
        self.report = report
        self.stored = stored
        self.trusted = trusted
        self.last_sealed = last_sealed
        self.tree = TreeBuilder()
        self.positions: dict[int, int] = {}
        """The log position of the last event of each checkpoint's size."""

    def add(self, position: int, digest: bytes) -> None:
        """Put a stored event's leaf into the rebuilt tree; check checkpoints at its size."""
        self.tree.append(digest)
        self.report.events += 1
        size = self.tree.size
        stored, trusted = self.stored.get(size), self.trusted.get(size)
        if stored is None and trusted is None:
            return
        self.positions[size] = position
        root = self.tree.root()
        if stored is not None and stored.root != root:
            message = (
                f"the first {size} events of the log do not have the signed root of"
                f" checkpoint {size}"
            )
            self.report.add("checkpoint_root_mismatch", message, position=position, size=size)
        if trusted is not None and trusted.root != root:
            message = (
                f"the first {size} events of the log do not have the signed root of the"
                f" checkpoint of {size} events {trusted.where}"
            )
            self.report.add("checkpoint_root_mismatch", message, position=position, size=size)

    def unsealed(self, position: int, digest: bytes) -> None:
        """An event with no sealed leaf: new since the last seal, or inserted."""
        if position <= self.last_sealed:
            message = f"the event at position {position} is not in the sealed tree"
            self.report.add("inserted_event", message, position=position)
        self.add(position, digest)

    def matched(self, position: int, digest: bytes, sealed: bytes) -> None:
        """An event and its sealed leaf."""
        if digest != sealed:
            message = f"the event at position {position} does not hash to its sealed leaf"
            self.report.add("altered_event", message, position=position)
        self.add(position, digest)


def _compare(
    walk: _Walk, events: Iterator[tuple[int, bytes]], leaves: Iterator[tuple[int, int, bytes]]
) -> None:
    event, leaf = next(events, None), next(leaves, None)
    while event is not None or leaf is not None:
        if event is not None and (leaf is None or event[0] < leaf[1]):
            walk.unsealed(*event)
            event = next(events, None)
        elif leaf is not None and (event is None or leaf[1] < event[0]):
            message = f"the sealed event at position {leaf[1]} is not in the log"
            walk.report.add("missing_event", message, position=leaf[1])
            leaf = next(leaves, None)
        elif event is not None and leaf is not None:
            walk.matched(event[0], event[1], leaf[2])
            event, leaf = next(events, None), next(leaves, None)


def _check_signatures(
    sealer: Sealer, checkpoints: list[SignedCheckpoint], key: str, report: Report
) -> list[SignedCheckpoint]:
    good = []
    for checkpoint in checkpoints:
        try:
            head = sealer.open(checkpoint, key)
        except CheckpointError as e:
            message = f"checkpoint {checkpoint.size}: {e}"
            report.add("bad_checkpoint_signature", message, size=checkpoint.size)
            continue
        if (head.size, head.root) != (checkpoint.size, checkpoint.root):
            message = f"checkpoint {checkpoint.size}: the stored size or root is not the signed one"
            report.add("checkpoint_row_altered", message, size=checkpoint.size)
            continue
        good.append(checkpoint)
    return good


def _open_outside(
    read: AnchorRead, key: str, where: str, report: Report, *, every_origin: bool
) -> list[_Trusted]:
    """Open the records of an anchor or an auditor's file; other stores' records skipped."""
    origin = parse_verifier_key(key)[0]
    for line in read.unreadable:
        report.add("anchor_unreadable", f"line {line} of {where} is not a checkpoint record")
    opened = []
    for record in read.records:
        if not every_origin and _origin(record) != origin:
            continue  # another store's checkpoint sharing the file
        try:
            head = open_checkpoint(record.note.encode("utf-8"), key, origin=origin)
        except CheckpointError as e:
            message = f"the checkpoint on line {record.line} of {where}: {e}"
            report.add("bad_checkpoint_signature", message, size=record.size)
            continue
        opened.append(
            _Trusted(head.size, head.root, record.note, f"in {where}", record.bindings_from)
        )
    return opened


def _origin(record: AnchorRecord) -> str:
    return record.note.split("\n", 1)[0]


def _trusted(found: list[_Trusted], report: Report) -> dict[int, _Trusted]:
    by_size: dict[int, _Trusted] = {}
    for item in found:
        earlier = by_size.setdefault(item.size, item)
        if earlier.root != item.root:
            message = (
                f"two checkpoints of {item.size} events signed with the key have different"
                f" roots ({earlier.where}, {item.where}): the log was forked"
            )
            report.add("anchor_mismatch", message, size=item.size)
    return by_size


def _check_present(
    trusted: dict[int, _Trusted], stored: list[SignedCheckpoint], report: Report
) -> None:
    """Every checkpoint from outside must be in the store, the same."""
    in_store = {c.size: c for c in stored}
    for size, item in sorted(trusted.items()):
        there = in_store.get(size)
        if there is None:
            message = (
                f"the checkpoint of {size} events {item.where} is not in the store: it was"
                " deleted, or the store was rolled back"
            )
            report.add("checkpoint_missing", message, size=size)
        elif there.root != item.root:
            message = f"the store's checkpoint of {size} events is not the one {item.where}"
            report.add("anchor_mismatch", message, size=size)


def _resolve_key(
    sealer: Sealer, verifier_key: str | None, key_source: str | None
) -> tuple[str, str]:
    if verifier_key:
        try:
            parse_verifier_key(verifier_key)
        except CheckpointError as e:
            msg = f"the verifier key given is unusable: {e}"
            raise ConfigurationError(msg) from None
        return verifier_key, key_source or "given"
    path = sealer.verifier_file
    configured = sealer.configured_key()
    if configured is not None:
        key, source = configured, "configured"
    else:
        key, source = sealer.ledger.verifier_key(), "store"
    try:
        parse_verifier_key(key)
    except CheckpointError as e:
        msg = f"the verifier key from {path if source == 'configured' else source} is unusable: {e}"
        raise ConfigurationError(msg) from None
    return key, source


def verify(
    sealer: Sealer,
    *,
    verifier_key: str | None = None,
    key_source: str | None = None,
    checkpoints: Sequence[AnchorRead] = (),
    progress: Progress | None = None,
    page: int = 5000,
) -> Report:
    """Check the whole log against its seals and the checkpoints kept outside the store.

    ``verifier_key``: the trusted key (``key_source`` says where it came from, by
    default ``given``); without one the configured verifier key file is used, else
    the store's key (``key_source`` ``store``, with a warning). ``checkpoints``:
    checkpoint files an auditor saved (``ledger.evidence.anchor.read_checkpoint_file``).
    """
    ledger = sealer.ledger
    key, source = _resolve_key(sealer, verifier_key, key_source)
    report = Report(key_source=source)
    stored = _check_signatures(sealer, sealer.checkpoints(), key, report)
    outside: list[_Trusted] = []
    if sealer.anchor is not None:
        anchor = sealer.anchor.read()
        report.anchor = str(anchor.path)
        found = _open_outside(anchor, key, str(anchor.path), report, every_origin=False)
        report.anchored = len({item.size for item in found})
        outside += found
        if not anchor.exists and not checkpoints:
            message = (
                f"the checkpoint anchor {anchor.path} does not exist: nothing outside the"
                " store vouches for the log; restore it, or give --checkpoint FILE"
            )
            report.add("anchor_missing", message)
    for given in checkpoints:
        found = _open_outside(given, key, str(given.path), report, every_origin=True)
        report.given += len({item.size for item in found})
        outside += found
    trusted = _trusted(outside, report)
    _check_present(trusted, stored, report)
    report.sealed = sealer.tree().size
    head = ledger.recorder.max_notification_id() or 0
    facts = _SideFacts()
    events = _events(sealer, page, facts)
    if progress is not None:
        events = _reporting(events, progress, head)
    walk = _Walk(report, {c.size: c for c in stored}, trusted, sealer.last_sealed_position())
    _compare(walk, events, _leaves(sealer, page))
    _check_lengths(walk, stored, trusted, report)
    _check_coverage(walk, stored, trusted, report)
    starts = [item.bindings_from for item in outside if item.bindings_from is not None]
    sealed_to = walk.positions.get(report.events - report.unsealed, 0)
    _check_side_tables(sealer, facts, (min(starts, default=None), sealed_to), report)
    return report


def _check_lengths(
    walk: _Walk, stored: list[SignedCheckpoint], trusted: dict[int, _Trusted], report: Report
) -> None:
    size = walk.tree.size
    for checkpoint in stored:
        if checkpoint.size > size:
            message = f"checkpoint {checkpoint.size} covers more events than the log holds ({size})"
            report.add("truncated_log", message, size=checkpoint.size)
    for item in trusted.values():
        if item.size > size:
            message = (
                f"the store holds {size} events, fewer than the checkpoint of {item.size}"
                f" events {item.where}: it was truncated or rolled back"
            )
            report.add("rollback", message, size=item.size)


def _check_coverage(
    walk: _Walk, stored: list[SignedCheckpoint], trusted: dict[int, _Trusted], report: Report
) -> None:
    """The newest signed checkpoint; events past it are unsealed, none at all is not ok."""
    candidates: dict[int, SignedCheckpoint] = {
        size: SignedCheckpoint(size, item.root, item.note) for size, item in trusted.items()
    }
    candidates.update({c.size: c for c in stored})
    report.checkpoint = candidates[max(candidates)] if candidates else None
    covered = max((size for size in candidates if size <= walk.tree.size), default=0)
    report.unsealed = max(0, report.events - covered)
    if not candidates and report.events:
        message = (
            f"the log holds {report.events} events and no signed checkpoint covers any of"
            " them: the checkpoints were deleted, or the log was never sealed"
        )
        report.add("no_checkpoint", message, size=0)
    elif report.unsealed:
        message = (
            f"{report.unsealed} of {report.events} events are covered by no signed checkpoint"
            " yet: run `ledger seal`, then verify again"
        )
        report.add("unsealed_events", message, size=covered)


def _check_side_tables(
    sealer: Sealer, facts: _SideFacts, bound: tuple[int | None, int], report: Report
) -> None:
    """``bound``: the first position bound (from the anchor) and the last sealed one."""
    for position in facts.unreadable:
        message = f"the event at position {position} does not hold a readable sealed value"
        report.add("unreadable_event", message, position=position)
    _check_keys(sealer, facts, report)
    index_key = readable_index_key(sealer.ledger)
    if index_key is None:
        report.side_tables = "keys checked; subject bindings not (no master key here)"
    _check_subjects(sealer, index_key, facts, bound, report)


def _check_keys(sealer: Sealer, facts: _SideFacts, report: Report) -> None:
    rows = sealer.store.stream(
        "SELECT subject_id, category, key_version, wrapped IS NULL AS destroyed"
        " FROM {t}ledger_keys ORDER BY subject_id, category, key_version",
        tuples=True,
    )
    present: set[tuple[UUID, str, int]] = set()
    for subject, category, version, destroyed in rows:
        stream = as_uuid(subject)
        present.add((stream, category, version))
        if not destroyed:
            continue
        used = facts.first_use.get((stream, category, version), 0)
        if facts.last_erasure.get((stream, category), -1) <= used:
            message = (
                f"the data key {version} of category {category} of subject {stream} was"
                " destroyed, but no erasure in the log destroyed it"
            )
            report.add("key_destroyed_without_erasure", message, position=used or None)
    for (stream, category, version), position in sorted(
        facts.first_use.items(), key=lambda item: item[1]
    ):
        if (stream, category, version) not in present:
            message = (
                f"the event at position {position} is sealed under data key {version} of"
                f" category {category} of subject {stream}, which the key table does not hold"
            )
            report.add("key_missing", message, position=position)


def _check_subjects(
    sealer: Sealer,
    index_key: bytes | None,
    facts: _SideFacts,
    bound: tuple[int | None, int],
    report: Report,
) -> None:
    """Every reference points at a registered subject, bound to it; none went missing.

    A reference must carry a binding when its subject was registered at or after the
    first position the sealer binds from and is covered by a checkpoint.
    """
    bound_from, sealed_to = bound
    bindings = {
        str(subject): bytes(digest)
        for subject, digest in sealer.store.stream(
            "SELECT subject_id, digest FROM {t}ledger_subject_bindings", tuples=True
        )
    }
    seen: set[UUID] = set()
    for ref, subject in sealer.store.stream(
        "SELECT ref, subject_id FROM {t}ledger_subjects ORDER BY subject_id", tuples=True
    ):
        stream = as_uuid(subject)
        seen.add(stream)
        registered = facts.registered.get(stream)
        if registered is None:
            message = f"a subject reference points at {stream}, which no event registered"
            report.add("subject_not_in_log", message)
            continue
        if index_key is None:
            continue
        digest = bindings.get(stream.hex)
        if digest is None and bound_from is not None and bound_from <= registered <= sealed_to:
            message = (
                f"the subject reference of {stream} (registered at position {registered}) has"
                " no binding, though the sealer binds every reference from position"
                f" {bound_from}: the reference or binding table was altered"
            )
            report.add("subject_unbound", message, position=registered)
        elif digest is None:
            report.unbound_subjects += 1
        elif digest != subject_binding(index_key, stream, ref):
            message = (
                f"the subject reference of {stream} is not the one it was registered under:"
                " the reference table was altered"
            )
            report.add("subject_reference_altered", message, position=registered)
    for stream, position in sorted(facts.registered.items(), key=lambda item: item[1]):
        if stream not in seen and stream not in facts.references_removed:
            message = (
                f"the subject registered at position {position} ({stream}) has no reference,"
                " and no erasure in the log removed it"
            )
            report.add("subject_reference_missing", message, position=position)


def _reporting(
    events: Iterator[tuple[int, bytes]], progress: Progress, head: int
) -> Iterator[tuple[int, bytes]]:
    for count, event in enumerate(events, start=1):
        if count % 10_000 == 0:
            progress(event[0], head)
        yield event
    progress(head, head)
