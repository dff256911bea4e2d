"""A standalone verifier for outside auditors: proofs and exported logs, no database.

Needs only this package's ``integrity`` modules, the standard library and
``cryptography``. Every check takes the verifier key separately: a key shipped
inside a document is never trusted. Run it as::

    python -m ledger.integrity.verifier proof.json --key 'NAME+KEYID+BASE64'
    python -m ledger.integrity.verifier --export DIR --key 'NAME+KEYID+BASE64'

Documents:

* inclusion proof (``ledger prove POSITION``): ``format``
  ``consent-ledger/inclusion-proof/1``, ``event`` (``position``, ``stream_id``,
  ``version``, ``topic``, ``state`` base64 as stored), ``leaf_index``,
  ``tree_size``, ``audit_path`` (hex), ``checkpoint`` (signed note text);
* consistency proof (``ledger prove --consistency OLD``): ``format``
  ``consent-ledger/consistency-proof/1``, ``old_checkpoint``, ``new_checkpoint``,
  ``proof`` (hex);
* exported log (``ledger export-log DIR``): ``events.ndjson`` (one stored event per
  line, as above, in log order), ``checkpoints.ndjson`` (``size``, ``note``),
  ``verifier-key.txt``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.integrity.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from ledger.integrity.leaf import event_leaf_hash
from ledger.integrity.merkle import TreeBuilder, verify_consistency, verify_inclusion

INCLUSION_FORMAT = "consent-ledger/inclusion-proof/1"
CONSISTENCY_FORMAT = "consent-ledger/consistency-proof/1"


def stored_event_leaf(event: dict[str, Any]) -> tuple[int, bytes]:
    """(position, leaf hash) of an event given as a document's ``event`` object."""
    state = base64.b64decode(event["state"], validate=True)
    position = int(event["position"])
    digest = event_leaf_hash(
        position, UUID(event["stream_id"]), int(event["version"]), event["topic"], state
    )
    return position, digest


def _hashes(values: Any) -> list[bytes]:
    if not isinstance(values, list):
        raise TypeError("a list of hex hashes was expected")
    return [bytes.fromhex(v) for v in values]


_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, binascii.Error)


def _text(document: dict[str, Any], name: str) -> bytes:
    value = document[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value.encode("utf-8")


def _integer(document: dict[str, Any], name: str) -> int:
    value = document[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer")
    return value


@dataclass(frozen=True)
class _Inclusion:
    head: Checkpoint
    position: int
    digest: bytes
    index: int
    size: int
    path: list[bytes]
    claimed: str | None


def _read_inclusion(document: Any, verifier_key: str) -> _Inclusion | str:
    """The parts of an inclusion proof, or the one problem that stops reading it."""
    if not isinstance(document, dict):
        return "malformed proof document: not a JSON object"
    try:
        if document.get("format") != INCLUSION_FORMAT:
            return f"not an inclusion proof of format {INCLUSION_FORMAT}"
        head = open_checkpoint(_text(document, "checkpoint"), verifier_key)
        if not isinstance(document["event"], dict):
            raise TypeError("event must be an object")
        position, digest = stored_event_leaf(document["event"])
        claimed = document.get("leaf_hash")
        if claimed is not None and not isinstance(claimed, str):
            raise TypeError("leaf_hash must be a hex string")
        return _Inclusion(
            head, position, digest, _integer(document, "leaf_index"),
            _integer(document, "tree_size"), _hashes(document["audit_path"]), claimed,
        )  # fmt: skip
    except CheckpointError as e:
        return f"checkpoint: {e}"
    except _MALFORMED as e:
        return f"malformed proof document: {e}"


def check_inclusion(document: Any, verifier_key: str) -> list[str]:
    """Problems with an inclusion proof; empty when the event is in the checkpoint.

    The leaf hash is always recomputed from the proof's event: a ``leaf_hash`` in the
    document is only a convenience and must equal it, else the proof fails.
    """
    proof = _read_inclusion(document, verifier_key)
    if isinstance(proof, str):
        return [proof]
    head, position, index = proof.head, proof.position, proof.index
    if proof.claimed is not None and proof.claimed != proof.digest.hex():
        return [f"the proof's leaf_hash is not the hash of the event at position {position}"]
    if proof.size != head.size:
        return [f"the proof is for a tree of {proof.size} events, the checkpoint has {head.size}"]
    if not verify_inclusion(proof.digest, index, head.size, proof.path, head.root):
        return [f"the event at position {position} is not at index {index} of the checkpoint"]
    return []


def proof_kind(document: Any) -> str:
    """``consistency`` for a consistency proof document, else ``inclusion``."""
    if isinstance(document, dict) and "old_checkpoint" in document:
        return "consistency"
    return "inclusion"


def check_consistency(document: Any, verifier_key: str) -> list[str]:
    """Problems with a consistency proof; empty when the new checkpoint extends the old."""
    if not isinstance(document, dict):
        return ["malformed proof document: not a JSON object"]
    try:
        if document.get("format") != CONSISTENCY_FORMAT:
            return [f"not a consistency proof of format {CONSISTENCY_FORMAT}"]
        old = open_checkpoint(_text(document, "old_checkpoint"), verifier_key)
        new = open_checkpoint(_text(document, "new_checkpoint"), verifier_key)
        proof = _hashes(document["proof"])
    except CheckpointError as e:
        return [f"checkpoint: {e}"]
    except _MALFORMED as e:
        return [f"malformed proof document: {e}"]
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        return [f"checkpoint {new.size} does not extend checkpoint {old.size}"]
    return []


@dataclass
class ExportReport:
    """What checking an exported log found."""

    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _open_checkpoints(folder: Path, key: str, report: ExportReport) -> dict[int, Checkpoint]:
    heads: dict[int, Checkpoint] = {}
    for item in _lines(folder / "checkpoints.ndjson"):
        try:
            head = open_checkpoint(item["note"].encode("utf-8"), key)
        except CheckpointError as e:
            report.problems.append(f"checkpoint {item.get('size')}: {e}")
            continue
        heads[head.size] = head
    report.checkpoints = len(heads)
    return heads


def check_export(folder: Path, verifier_key: str) -> ExportReport:
    """Recompute every leaf of an exported log and check each checkpoint's root."""
    report = ExportReport()
    heads = _open_checkpoints(folder, verifier_key, report)
    tree = TreeBuilder()
    last = trusted = 0
    for event in _lines(folder / "events.ndjson"):
        position, digest = stored_event_leaf(event)
        if position <= last:
            report.problems.append(f"position {position} is out of order (after {last})")
        last = position
        tree.append(digest)
        head = heads.get(tree.size)
        if head is not None and head.root != tree.root():
            report.problems.append(
                f"checkpoint {head.size}: the first {head.size} events do not have its root;"
                f" an event at positions {trusted + 1}..{position} was altered, removed or"
                " inserted"
            )
        elif head is not None:
            trusted = position
    report.events = tree.size
    report.problems += [
        f"checkpoint {size} covers more events than the export holds ({tree.size})"
        for size in sorted(heads)
        if size > tree.size
    ]
    return report


def main(argv: list[str] | None = None) -> int:
    """Check a proof document or an exported log; exit 0 when it verifies, 5 when not."""
    parser = argparse.ArgumentParser(prog="python -m ledger.integrity.verifier")
    parser.add_argument("proof", nargs="?", help="inclusion or consistency proof (JSON)")
    parser.add_argument("--export", help="an exported log folder")
    parser.add_argument("--key", required=True, help="the verifier key, or a file holding it")
    args = parser.parse_args(argv)
    key = args.key
    if Path(key).is_file():
        key = Path(key).read_text(encoding="utf-8").strip()
    if args.export:
        report = check_export(Path(args.export), key)
        problems = report.problems
        summary = f"{report.events} events, {report.checkpoints} checkpoints"
    elif args.proof:
        try:
            document = json.loads(Path(args.proof).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            sys.stderr.write(f"error: cannot read {args.proof} as a JSON proof document: {e}\n")
            return 2
        if not isinstance(document, dict):
            sys.stderr.write(f"error: {args.proof} is not a proof document (a JSON object)\n")
            return 2
        check = check_consistency if proof_kind(document) == "consistency" else check_inclusion
        problems, summary = check(document, key), "proof"
    else:
        parser.error("give a proof file or --export DIR")
    for problem in problems:
        sys.stderr.write(f"FAIL: {problem}\n")
    sys.stdout.write(f"{'FAILED' if problems else 'OK'}: {summary}\n")
    return 5 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
