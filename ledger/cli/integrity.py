"""Commands for tamper evidence: seal, verify, prove, verify-proof, export-log, public-key."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import orjson

from ledger.bootstrap import Core
from ledger.cli.common import (
    EXIT_OK,
    EXIT_VERIFY,
    Io,
    command,
    open_from,
    positive,
    problem,
    progress_bar,
)
from ledger.errors import ConfigurationError
from ledger.evidence.anchor import read_checkpoint_file
from ledger.evidence.proofs import (
    export_log,
    prove_consistency,
    prove_inclusion,
    stored_event_check,
)
from ledger.evidence.verification import STORE_KEY_WARNING, verify
from ledger.integrity.verifier import (
    check_consistency,
    check_export,
    check_inclusion,
    proof_kind,
)

__all__ = ["STORE_KEY_WARNING", "register"]

PROBLEM_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), rule)
    for pattern, rule in (
        (r"not an? \w+ proof of format", "wrong_proof_format"),
        (r"malformed proof document", "malformed_proof"),
        (r"the proof is for a tree of", "tree_size_mismatch"),
        (r"the event at position \d+ is not at index", "not_included"),
        (r"the proof's leaf_hash is not", "leaf_hash_mismatch"),
        (r"the proof's event is not the event", "event_not_in_store"),
        (r"checkpoint \d+ does not extend", "inconsistent_checkpoints"),
        (r"checkpoint \d+: the first \d+ events do not have its root", "checkpoint_root_mismatch"),
        (r"checkpoint \d+ covers more events", "truncated_log"),
        (r"position \d+ is out of order", "events_out_of_order"),
        (r"checkpoint( \S+)?: ", "bad_checkpoint_signature"),
    )
)
"""Rule codes of the standalone verifier's problem texts (first match; else
``verification_failed``)."""


def cmd_seal(args: argparse.Namespace, io: Io) -> int:
    """Seal every stored event into the Merkle tree and sign a checkpoint."""
    core = open_from(args)
    try:
        checkpoint = core.sealer.seal()
    finally:
        core.close()
    io.json({"size": checkpoint.size, "root": checkpoint.root.hex(), "note": checkpoint.note})
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, io: Io) -> int:
    """Recompute every leaf and root and check every checkpoint; exit 5 if anything is wrong."""
    if args.export:
        key, source = _verifier_key(args, None)
        report = check_export(Path(args.export), key)
        io.json({"ok": not report.problems, "events": report.events,
                  "checkpoints": report.checkpoints, "problems": report.problems,
                  "problem_details": problem_details(report.problems),
                  **_key_origin(source)})  # fmt: skip
        return EXIT_OK if not report.problems else EXIT_VERIFY
    given = [read_checkpoint_file(Path(p)) for p in args.checkpoint or ()]
    public, origin = _given_key(args)
    core = open_from(args)
    try:
        found = verify(
            core.sealer, verifier_key=public, key_source=origin, checkpoints=given,
            progress=progress_bar(io, "verify"),
        )  # fmt: skip
    finally:
        core.close()
    answer = found.as_dict()
    problems = [{"rule": p["kind"], "field": None, **p} for p in answer.pop("problems")]
    io.json(answer | {"problems": problems})
    return EXIT_OK if found.ok else EXIT_VERIFY


def _given_key(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The key of ``--public-key`` (``given``, or ``file`` when it names a file)."""
    if not args.public_key:
        return None, None
    path = Path(args.public_key)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip(), "file"
    return args.public_key, "given"


def _verifier_key(args: argparse.Namespace, core: Core | None) -> tuple[str, str]:
    """The verifier key and where it came from: ``file``, ``given``, ``configured``, ``store``.

    ``configured`` is the verifier key file beside the keys (written at the first
    seal); only without it is the store's own key used, and then said so.
    """
    key, source = _given_key(args)
    if key is not None and source is not None:
        return key, source
    if core is None:
        msg = "--export needs --public-key (the verifier key, or a file holding it)"
        raise ConfigurationError(msg)
    configured = core.sealer.configured_key()
    if configured is not None:
        return configured, "configured"
    return core.ledger.verifier_key(), "store"


def _key_origin(source: str) -> dict[str, Any]:
    return {
        "verifier_key_from": source,
        "verifier_key_warning": STORE_KEY_WARNING if source == "store" else None,
    }


def problem_details(problems: list[str]) -> list[dict[str, Any]]:
    """The standalone verifier's problem texts in the one problem shape."""
    return [
        problem(next((r for p, r in PROBLEM_RULES if p.match(text)), "verification_failed"), text)
        for text in problems
    ]


def cmd_prove(args: argparse.Namespace, io: Io) -> int:
    """An inclusion proof of one event, or a consistency proof from an older checkpoint."""
    core = open_from(args)
    try:
        if args.consistency is not None:
            io.json(prove_consistency(core.sealer, args.consistency, args.size))
        elif args.position is not None:
            io.json(prove_inclusion(core.sealer, args.position, args.size))
        else:
            msg = "give a POSITION or --consistency OLD_SIZE"
            raise ConfigurationError(msg)
    finally:
        core.close()
    return EXIT_OK


def cmd_verify_proof(args: argparse.Namespace, io: Io) -> int:
    """Check a proof document with the verifier key alone (no store needed).

    Without ``--public-key`` the store is opened for its key, and the proof's event
    is also compared with the event stored at its position.
    """
    document = _proof_document(args.file)
    inclusion = proof_kind(document) == "inclusion"
    if args.public_key:
        key, source = _verifier_key(args, None)
        problems = (check_inclusion if inclusion else check_consistency)(document, key)
    else:
        with open_from(args) as core:
            key, source = _verifier_key(args, core)
            problems = (check_inclusion if inclusion else check_consistency)(document, key)
            if inclusion and not problems:
                problems = stored_event_check(core.sealer, document)
    io.json({"ok": not problems, "problems": problems,
             "problem_details": problem_details(problems), **_key_origin(source)})  # fmt: skip
    return EXIT_OK if not problems else EXIT_VERIFY


def _proof_document(path: str) -> dict[str, Any]:
    try:
        document = orjson.loads(Path(path).read_bytes())
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror}"
        raise ConfigurationError(msg) from None
    except orjson.JSONDecodeError:
        msg = f"{path} is not a JSON document"
        raise ConfigurationError(msg) from None
    if not isinstance(document, dict):
        msg = f"{path} is not a proof document (a JSON object)"
        raise ConfigurationError(msg)
    return document


def cmd_export_log(args: argparse.Namespace, io: Io) -> int:
    """Write the stored events, checkpoints and public key for outside auditors."""
    core = open_from(args)
    try:
        written = export_log(core.sealer, Path(args.folder))
    finally:
        core.close()
    io.json({"folder": args.folder, **written})
    return EXIT_OK


def cmd_public_key(args: argparse.Namespace, io: Io) -> int:
    """Print the verifier key auditors check checkpoints with."""
    with open_from(args) as core:
        key = core.ledger.verifier_key()
    if args.json:
        io.json({"verifier_key": key})
    else:
        io.line(key)
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the integrity commands to the parser."""
    command(sub, "seal", cmd_seal, common)
    verify_ = command(sub, "verify", cmd_verify, common)
    verify_.add_argument(
        "--public-key", metavar="KEY|FILE",
        help="the verifier key, or a file holding it (default: the verifier key file beside"
        " the keys, else the store's own key, which proves nothing against whoever can"
        " write to the store)",
    )  # fmt: skip
    verify_.add_argument(
        "--checkpoint", metavar="FILE", action="append",
        help="a checkpoint saved outside the store (a signed note, or a file of checkpoint"
        " records such as the anchor file or an export's checkpoints.ndjson); the log must"
        " be consistent with it (repeatable)",
    )  # fmt: skip
    verify_.add_argument(
        "--export", metavar="DIR",
        help="verify a folder written by export-log instead of the store (needs --public-key)",
    )  # fmt: skip
    prove = command(sub, "prove", cmd_prove, common)
    prove.add_argument(
        "position", nargs="?", type=int, help="the log position of the event to prove"
    )
    prove.add_argument(
        "--consistency", type=int, metavar="OLD_SIZE",
        help="prove that the latest checkpoint extends the checkpoint of this size instead",
    )  # fmt: skip
    prove.add_argument(
        "--size", type=positive, metavar="SIZE",
        help="prove against the signed checkpoint of this size (one you hold) instead of the"
        " latest; with --consistency, the newer checkpoint's size",
    )  # fmt: skip
    check = command(sub, "verify-proof", cmd_verify_proof, common)
    check.add_argument("file", help="a proof document written by prove")
    check.add_argument(
        "--public-key", metavar="KEY|FILE",
        help="the verifier key, or a file holding it (default: the verifier key file beside"
        " the keys, else the store's own key)",
    )  # fmt: skip
    export = command(sub, "export-log", cmd_export_log, common)
    export.add_argument("folder", help="an empty or new folder to write the log into")
    command(sub, "public-key", cmd_public_key, common)
