"""The receipt signing key: Ed25519, kept apart from the checkpoint signing key.

The key file is ``LEDGER_RECEIPT_KEY_FILE``, else ``<name>.receipt.key`` beside the
master key file ``<name>.master.key``; it is made on first use, readable by its
owner only (base64 of the raw 32-byte private key).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import ConfigurationError, KeyUnavailable
from ledger.integrity.checkpoint import (
    parse_verifier_key,
    private_key_from_bytes,
    private_key_to_bytes,
)

RECEIPT_KEY_FILE_ENV = "LEDGER_RECEIPT_KEY_FILE"
_RAW_KEY_BYTES = 32


def receipt_key_file(master_key_path: Path) -> Path:
    """Where the receipt key is: the environment's file, else beside the master key."""
    chosen = os.environ.get(RECEIPT_KEY_FILE_ENV)
    if chosen:
        return Path(chosen)
    name = master_key_path.name.removesuffix(".master.key").removesuffix(".key")
    return master_key_path.with_name(f"{name}.receipt.key")


def receipt_key(path: Path, checkpoint_verifier_key: str) -> Ed25519PrivateKey:
    """The receipt key in ``path`` (made on first use); never the checkpoint signing key.

    Raises:
        ConfigurationError: The file holds the key that signs the store's checkpoints.
    """
    key = load_or_create(path)
    _, _, checkpoint_public = parse_verifier_key(checkpoint_verifier_key)
    if public_key_text(checkpoint_public) == public_key_text(key):
        msg = (
            f"the receipt key file {path} holds the checkpoint signing key; receipts need a"
            f" key of their own (unset {RECEIPT_KEY_FILE_ENV} or name another file)"
        )
        raise ConfigurationError(msg)
    return key


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The receipt key in ``path``, made (owner-only) when the file does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return _load(path)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(private_key_to_bytes(fresh)).decode("ascii") + "\n")
    return fresh


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        text = path.read_text(encoding="ascii")
    except OSError as e:
        msg = f"cannot read the receipt key file {path}: {e.strerror}"
        raise KeyUnavailable(msg) from None
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _RAW_KEY_BYTES:
        msg = f"the receipt key file {path} does not hold base64 of a 32-byte Ed25519 key"
        raise ConfigurationError(msg)
    return private_key_from_bytes(raw)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A public key as base64 of its 32 raw bytes (what ``ledger receipt-key`` prints)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64 text; a clear error when it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _RAW_KEY_BYTES:
        msg = "the receipt public key must be base64 of 32 bytes (from `ledger receipt-key`)"
        raise ConfigurationError(msg)
    return Ed25519PublicKey.from_public_bytes(raw)
