"""Inclusion and consistency proofs, and the log export for outside auditors."""

from __future__ import annotations

import binascii
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import ConfigurationError, NotFound
from ledger.evidence.sealing import Sealer, SignedCheckpoint, b64
from ledger.integrity.verifier import CONSISTENCY_FORMAT, INCLUSION_FORMAT, stored_event_leaf
from ledger.persistence.mapper import as_uuid, stored_leaf

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification


_FORMAT_NOTE = """\
# Exported ledger log

Written by `ledger export-log`; checked by
`python -m ledger.integrity.verifier --export DIR --key "$(cat DIR/verifier-key.txt)"`
(better: with a verifier key obtained from the controller independently).

- `events.ndjson`: every stored event in log order, one JSON object per line:
  `position` (log position), `stream_id` (UUID), `version` (in the stream),
  `topic` (event type) and `state` (the stored bytes, base64; personal values in
  them are AES-GCM ciphertext).
- `checkpoints.ndjson`: every signed checkpoint, oldest first: `size` and `note`
  (a C2SP tlog-checkpoint signed note, Ed25519).
- `verifier-key.txt`: the C2SP note verifier key of the store's signing key.

A leaf is `SHA-256(0x00 || data)` with `data = b"ledger-event/1\\x00" || position
(u64) || stream id (16 bytes) || version (u64) || len(topic) (u16) || topic ||
len(state) (u32) || state`, all integers big-endian; the tree is RFC 9162's over
the events in order, and each checkpoint's root must equal the tree of its first
`size` events.
"""


def event_document(n: Notification) -> dict[str, Any]:
    """A stored event as the verifier reads it."""
    return {
        "position": n.id,
        "stream_id": str(as_uuid(n.originator_id)),
        "version": n.originator_version,
        "topic": n.topic,
        "state": b64(n.state),
    }


def stored_event_check(sealer: Sealer, document: dict[str, Any]) -> list[str]:
    """Problems comparing an inclusion proof's event with the event stored at its position.

    The proof's leaf is recomputed from its event, and the stored event's leaf from
    the store's row (never from the Merkle tables): they must be the same.
    """
    try:
        position, digest = stored_event_leaf(document["event"])
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as e:
        return [f"malformed proof document: {e}"]
    found = sealer.ledger.ledger_recorder.select_at_positions([position]) if position > 0 else []
    if not found or stored_leaf(found[0]) != digest:
        return [f"the proof's event is not the event stored at position {position}"]
    return []


def _signed(sealer: Sealer, size: int) -> SignedCheckpoint:
    """The signed checkpoint of ``size`` (NotFound naming the sizes there are)."""
    checkpoints = {c.size: c for c in sealer.checkpoints()}
    found = checkpoints.get(size)
    if found is None:
        msg = f"no checkpoint of size {size}; sizes: {sorted(checkpoints)}"
        raise NotFound(msg)
    return found


def prove_inclusion(sealer: Sealer, position: int, size: int | None = None) -> dict[str, Any]:
    """An inclusion proof of the event at ``position`` in the latest checkpoint.

    ``size``: in the signed checkpoint of that size instead (one an auditor already
    holds), which must cover the position.
    """
    ledger = sealer.ledger
    (stored,) = ledger.ledger_recorder.select_at_positions([position]) or (None,)
    if stored is None:
        msg = f"no event at position {position}"
        raise NotFound(msg)
    index = sealer.leaf_index(position)
    if size is not None:
        checkpoint = _signed(sealer, size)
        if index is None or index >= checkpoint.size:
            msg = f"position {position} is not in the checkpoint of size {size}"
            raise NotFound(msg)
    else:
        latest = sealer.latest()
        if index is None or latest is None or index >= latest.size:
            latest = sealer.seal()
            index = sealer.leaf_index(position)
        checkpoint = latest
    assert index is not None  # noqa: S101 - sealed just now
    return {
        "format": INCLUSION_FORMAT,
        "event": event_document(stored),
        "leaf_index": index,
        "tree_size": checkpoint.size,
        "leaf_hash": sealer.leaf_hashes(index, index + 1)[0].hex(),
        "audit_path": [h.hex() for h in sealer.inclusion(index, checkpoint.size)],
        "checkpoint": checkpoint.note,
        "verifier_key": ledger.verifier_key(),
    }


def prove_consistency(sealer: Sealer, old_size: int, new_size: int | None = None) -> dict[str, Any]:
    """A consistency proof from the checkpoint of ``old_size`` to the latest one.

    ``new_size``: to the signed checkpoint of that size instead (not older than the first).
    """
    ledger = sealer.ledger
    old = _signed(sealer, old_size)
    if new_size is None:
        new = sealer.seal()
    else:
        new = _signed(sealer, new_size)
        if old.size > new.size:
            msg = f"the checkpoint of size {old_size} is newer than the one of size {new_size}"
            raise ConfigurationError(msg)
    return {
        "format": CONSISTENCY_FORMAT,
        "old_checkpoint": old.note,
        "new_checkpoint": new.note,
        "proof": [h.hex() for h in sealer.consistency(old.size, new.size)],
        "verifier_key": ledger.verifier_key(),
    }


def export_log(sealer: Sealer, folder: Path, *, page: int = 5000) -> dict[str, int]:
    """Write events, checkpoints, the verifier key and a format note into ``folder``."""
    ledger = sealer.ledger
    sealer.seal()
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        msg = f"{folder} is not empty; export into a new folder"
        raise ConfigurationError(msg)
    events = 0
    with (folder / "events.ndjson").open("w", encoding="utf-8") as out:
        position = 0
        while rows := ledger.recorder.select_notifications(
            position, page, inclusive_of_start=False
        ):
            for n in rows:
                out.write(json.dumps(event_document(n)) + "\n")
            events += len(rows)
            position = rows[-1].id
    checkpoints = sealer.checkpoints()
    with (folder / "checkpoints.ndjson").open("w", encoding="utf-8") as out:
        for c in checkpoints:
            out.write(json.dumps({"size": c.size, "note": c.note}) + "\n")
    (folder / "verifier-key.txt").write_text(ledger.verifier_key() + "\n", encoding="utf-8")
    (folder / "FORMAT.md").write_text(_FORMAT_NOTE, encoding="utf-8")
    return {"events": events, "checkpoints": len(checkpoints)}
