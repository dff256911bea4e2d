"""Commands for tamper evidence: seal, verify, prove, verify-proof, export-log, public-key."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from ledger.appending.application import Ledger
from ledger.cli.common import EXIT_OK, EXIT_VERIFY, Io, open_from, progress_bar
from ledger.errors import ConfigurationError
from ledger.evidence.proofs import export_log, prove_consistency, prove_inclusion
from ledger.evidence.verification import verify
from ledger.integrity.verifier import check_consistency, check_export, check_inclusion


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
        report = check_export(Path(args.export), _verifier_key(args, None))
        io.json({"ok": not report.problems, "events": report.events,
                  "checkpoints": report.checkpoints, "problems": report.problems})  # fmt: skip
        return EXIT_OK if not report.problems else EXIT_VERIFY
    core = open_from(args)
    try:
        key = _verifier_key(args, core.ledger)
        found = verify(core.sealer, verifier_key=key, progress=progress_bar(io, "verify"))
    finally:
        core.close()
    io.json(found.as_dict())
    return EXIT_OK if found.ok else EXIT_VERIFY


def _verifier_key(args: argparse.Namespace, ledger: Ledger | None) -> str:
    if args.public_key:
        path = Path(args.public_key)
        return path.read_text(encoding="utf-8").strip() if path.is_file() else args.public_key
    if ledger is None:
        msg = "--export needs --public-key (the verifier key, or a file holding it)"
        raise ConfigurationError(msg)
    return ledger.verifier_key()


def cmd_prove(args: argparse.Namespace, io: Io) -> int:
    """An inclusion proof of one event, or a consistency proof from an older checkpoint."""
    core = open_from(args)
    try:
        if args.consistency is not None:
            io.json(prove_consistency(core.sealer, args.consistency))
        elif args.position is not None:
            io.json(prove_inclusion(core.sealer, args.position))
        else:
            msg = "give a POSITION or --consistency OLD_SIZE"
            raise ConfigurationError(msg)
    finally:
        core.close()
    return EXIT_OK


def cmd_verify_proof(args: argparse.Namespace, io: Io) -> int:
    """Check a proof document with the verifier key alone (no store needed)."""
    document = orjson.loads(Path(args.file).read_bytes())
    if args.public_key:
        key = _verifier_key(args, None)
    else:
        with open_from(args) as core:
            key = _verifier_key(args, core.ledger)
    check = check_consistency if "old_checkpoint" in document else check_inclusion
    problems = check(document, key)
    io.json({"ok": not problems, "problems": problems})
    return EXIT_OK if not problems else EXIT_VERIFY


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
        io.line(core.ledger.verifier_key())
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the integrity commands to the parser."""
    seal = sub.add_parser("seal", parents=[common], help=cmd_seal.__doc__)
    seal.set_defaults(run=cmd_seal)
    verify_ = sub.add_parser("verify", parents=[common], help=cmd_verify.__doc__)
    verify_.add_argument("--public-key", help="verifier key or file (default: the store's)")
    verify_.add_argument("--export", help="verify an exported log folder instead of the store")
    verify_.set_defaults(run=cmd_verify)
    prove = sub.add_parser("prove", parents=[common], help=cmd_prove.__doc__)
    prove.add_argument("position", nargs="?", type=int)
    prove.add_argument("--consistency", type=int, metavar="OLD_SIZE")
    prove.set_defaults(run=cmd_prove)
    check = sub.add_parser("verify-proof", parents=[common], help=cmd_verify_proof.__doc__)
    check.add_argument("file")
    check.add_argument("--public-key", help="verifier key or file (default: the store's)")
    check.set_defaults(run=cmd_verify_proof)
    export = sub.add_parser("export-log", parents=[common], help=cmd_export_log.__doc__)
    export.add_argument("folder")
    export.set_defaults(run=cmd_export_log)
    public_key = sub.add_parser("public-key", parents=[common], help=cmd_public_key.__doc__)
    public_key.set_defaults(run=cmd_public_key)
