"""``ledger verify``: recompute every leaf from the stored events and check the seals.

Streams the log once (bounded memory): each stored event's leaf hash is recomputed
and compared with the sealed leaf at the same tree index (naming the position of
an altered, missing or inserted event), the recomputed tree's root is compared
with every signed checkpoint at its size, every checkpoint signature is checked
with the verifier key, and each checkpoint must extend the one before
(consistency proof over the recomputed tree's stored nodes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from ledger.evidence.sealing import Sealer, SignedCheckpoint
from ledger.integrity.checkpoint import CheckpointError
from ledger.integrity.leaf import event_leaf_hash
from ledger.integrity.merkle import TreeBuilder, verify_consistency
from ledger.persistence.mapper import as_uuid

if TYPE_CHECKING:
    pass

Progress = Callable[[int, int], None]


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
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem at all."""
        return not self.problems

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
            "problems": [p.as_dict() for p in self.problems],
        }


def _events(sealer: Sealer, page: int) -> Iterator[tuple[int, bytes]]:
    """(position, recomputed leaf hash) of every stored event, streamed in log order."""
    store = sealer.store
    table = sealer.ledger.recorder.events_table_name  # type: ignore[attr-defined]
    position = "rowid" if store.kind == "sqlite" else "notification_id"
    sql = (
        f"SELECT {position} AS position, originator_id, originator_version, topic, state"
        f" FROM {{t}}{table} ORDER BY {position}"
    )
    for r in store.stream(sql, page):
        n = r["position"]
        leaf = event_leaf_hash(
            n,
            as_uuid(r["originator_id"]),
            r["originator_version"],
            r["topic"],
            bytes(r["state"]),
        )
        yield n, leaf


def _leaves(sealer: Sealer, page: int) -> Iterator[tuple[int, int, bytes]]:
    sql = "SELECT leaf_index, position, hash FROM {t}ledger_merkle_leaves ORDER BY leaf_index"
    for index, position, digest in sealer.store.stream(sql, page, tuples=True):
        yield index, position, bytes(digest)


class _Walk:
    """Merge the stored events with the sealed leaves by position, rebuilding the tree."""

    def __init__(
        self, report: Report, checkpoints: dict[int, SignedCheckpoint], last_sealed: int
    ) -> None:
        self.report = report
        self.checkpoints = checkpoints
        self.last_sealed = last_sealed
        self.tree = TreeBuilder()

    def add(self, position: int, digest: bytes) -> None:
        """Put a stored event's leaf into the rebuilt tree; check a checkpoint at its size."""
        self.tree.append(digest)
        self.report.events += 1
        checkpoint = self.checkpoints.get(self.tree.size)
        if checkpoint is not None and checkpoint.root != self.tree.root():
            message = (
                f"the first {checkpoint.size} events of the log do not have the signed"
                f" root of checkpoint {checkpoint.size}"
            )
            self.problem("checkpoint_root_mismatch", message, position, checkpoint.size)

    def problem(self, kind: str, message: str, position: int, size: int | None = None) -> None:
        """Record a problem."""
        self.report.problems.append(Problem(kind, message, position=position, size=size))

    def unsealed(self, position: int, digest: bytes) -> None:
        """An event with no sealed leaf: new since the last seal, or inserted."""
        if position <= self.last_sealed:
            message = f"the event at position {position} is not in the sealed tree"
            self.problem("inserted_event", message, position)
        self.add(position, digest)

    def matched(self, position: int, digest: bytes, sealed: bytes) -> None:
        """An event and its sealed leaf."""
        if digest != sealed:
            message = f"the event at position {position} does not hash to its sealed leaf"
            self.problem("altered_event", message, position)
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
            walk.problem("missing_event", message, leaf[1])
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
            report.problems.append(
                Problem("bad_checkpoint_signature", message, size=checkpoint.size)
            )
            continue
        if (head.size, head.root) != (checkpoint.size, checkpoint.root):
            message = f"checkpoint {checkpoint.size}: the stored size or root is not the signed one"
            report.problems.append(Problem("checkpoint_row_altered", message, size=checkpoint.size))
            continue
        good.append(checkpoint)
    return good


def _check_consistency(sealer: Sealer, checkpoints: list[SignedCheckpoint], report: Report) -> None:
    for old, new in pairwise(checkpoints):
        try:
            proof = sealer.consistency(old.size, new.size)
        except ValueError:
            proof = []
        if not verify_consistency(old.size, new.size, old.root, new.root, proof):
            message = f"checkpoint {new.size} does not extend checkpoint {old.size}"
            report.problems.append(Problem("inconsistent_checkpoints", message, size=new.size))


def verify(
    sealer: Sealer,
    *,
    verifier_key: str | None = None,
    key_source: str | None = None,
    progress: Progress | None = None,
    page: int = 5000,
) -> Report:
    """Check the whole log against its seals.

    ``key_source`` says where ``verifier_key`` came from (``store``, ``given``,
    ``file``); by default ``given`` when a key is passed, else ``store``.
    """
    ledger = sealer.ledger
    report = Report(key_source=key_source or ("given" if verifier_key else "store"))
    key = verifier_key or ledger.verifier_key()
    checkpoints = _check_signatures(sealer, sealer.checkpoints(), key, report)
    report.checkpoint = checkpoints[-1] if checkpoints else None
    report.sealed = sealer.tree().size
    head = ledger.recorder.max_notification_id() or 0
    events = _events(sealer, page)
    if progress is not None:
        events = _reporting(events, progress, head)
    walk = _Walk(report, {c.size: c for c in checkpoints}, sealer.last_sealed_position())
    _compare(walk, events, _leaves(sealer, page))
    for checkpoint in checkpoints:
        if checkpoint.size > walk.tree.size:
            message = (
                f"checkpoint {checkpoint.size} covers more events than the log holds"
                f" ({walk.tree.size})"
            )
            report.problems.append(Problem("truncated_log", message, size=checkpoint.size))
    _check_consistency(sealer, checkpoints, report)
    covered = report.checkpoint.size if report.checkpoint is not None else 0
    report.unsealed = max(0, report.events - covered)
    if report.unsealed:
        message = (
            f"{report.unsealed} of {report.events} events are covered by no signed checkpoint"
            " yet: run `ledger seal`, then verify again"
        )
        report.problems.append(Problem("unsealed_events", message, size=covered))
    return report


def _reporting(
    events: Iterator[tuple[int, bytes]], progress: Progress, head: int
) -> Iterator[tuple[int, bytes]]:
    for count, event in enumerate(events, start=1):
        if count % 10_000 == 0:
            progress(event[0], head)
        yield event
    progress(head, head)
