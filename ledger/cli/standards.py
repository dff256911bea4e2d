"""Commands that speak the standards: receipt, receipt-key, verify-receipt."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Core
from ledger.cli.common import EXIT_OK, EXIT_VERIFY, Io, command, open_from, timestamp
from ledger.errors import ConfigurationError
from ledger.standards.receipt_keys import (
    parse_public_key,
    public_key_text,
    receipt_key,
    receipt_key_file,
)
from ledger.standards.receipts import FORMATS, consent_receipt
from ledger.standards.signing import receipt_problems


def cmd_receipt(args: argparse.Namespace, io: Io) -> int:
    """A signed consent receipt (ISO/IEC TS 27560 or Kantara 1.1) of the consent in force."""
    with open_from(args) as core:
        key = _receipt_key(core)
        receipt = consent_receipt(
            core.views(), core.sealer, key, args.subject, args.purpose,
            at=args.at or core.ledger.clock.now(), form=args.format, controller=args.controller,
        )  # fmt: skip
    # Written as signed: the faces' time formatting must not touch a signed document.
    io.stdout.write(orjson.dumps(receipt, option=orjson.OPT_INDENT_2).decode() + "\n")
    return EXIT_OK


def cmd_receipt_key(args: argparse.Namespace, io: Io) -> int:
    """The receipt public key (base64), made on first use; receipts verify with it."""
    with open_from(args) as core:
        key = _receipt_key(core)
    io.line(public_key_text(key))
    return EXIT_OK


def cmd_verify_receipt(args: argparse.Namespace, io: Io) -> int:
    """Check a receipt offline with the receipt public key alone (no store needed)."""
    key = parse_public_key(_key_text(args.public_key))
    problems = receipt_problems(_document(args.file), key)
    io.json({"ok": not problems, "problems": problems})
    if problems:
        io.problem("verification_failed", "the receipt does not verify: " + "; ".join(problems))
    return EXIT_OK if not problems else EXIT_VERIFY


def _receipt_key(core: Core) -> Ed25519PrivateKey:
    return receipt_key(receipt_key_file(core.ledger.key_source.path), core.ledger.verifier_key())


def _key_text(given: str) -> str:
    path = Path(given)
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    return given


def _document(path: str) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror}"
        raise ConfigurationError(msg) from None
    except orjson.JSONDecodeError:
        msg = f"{path} is not a JSON document"
        raise ConfigurationError(msg) from None


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the standards commands to the parser."""
    receipt = command(sub, "receipt", cmd_receipt, common)
    receipt.add_argument("subject", help="the subject's reference, e.g. C-1001")
    receipt.add_argument("purpose", help="a purpose id of the register, e.g. marketing")
    receipt.add_argument(
        "--at", type=timestamp, metavar="TIME",
        help="the instant the consent must be in force (RFC 3339 with an offset; default: now)",
    )  # fmt: skip
    receipt.add_argument(
        "--format", choices=FORMATS, default="iso27560",
        help="iso27560 (a consent record after ISO/IEC TS 27560, DPV terms; default) or"
        " kantara (Kantara Consent Receipt 1.1)",
    )  # fmt: skip
    receipt.add_argument(
        "--controller", metavar="BUSINESS_ID",
        help="the controller the consent must hold for (default: any controller of the purpose)",
    )  # fmt: skip
    command(sub, "receipt-key", cmd_receipt_key, common)
    check = command(sub, "verify-receipt", cmd_verify_receipt, common)
    check.add_argument("file", help="a receipt written by `ledger receipt`")
    check.add_argument(
        "--public-key", required=True, metavar="KEY",
        help="the receipt public key (from `ledger receipt-key`), or a file holding it",
    )  # fmt: skip
