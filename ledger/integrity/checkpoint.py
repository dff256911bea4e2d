"""C2SP ``tlog-checkpoint`` signed notes, signed and opened with Ed25519.

A checkpoint commits to the log's tree head at a size. Its body is three lines,
each ending in a newline: the origin (e.g. ``ledger.example/register``), the tree
size in decimal and the base64 root hash. It travels as a C2SP ``signed-note``::

    ledger.example/register
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — ledger.example/register <base64(4-byte key ID || 64-byte Ed25519 signature)>

The key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]`` and the
verifier key, which is what a verifier is configured with, is
``<name>+<hex key ID>+<base64(0x01 || public key)>``, as the Go
``golang.org/x/mod/sumdb/note`` package and other transparency tooling expect.

Parsing is strict: anything other than exactly that structure, a signature that
does not verify, or no signature from the expected key raises
:class:`CheckpointError`. Extension lines are not supported. A signer must never
sign a checkpoint inconsistent with one it signed before: check
``merkle.verify_consistency`` against the previous checkpoint first.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519_TYPE = 0x01
"""The C2SP signed-note signature type identifier of Ed25519."""

MAX_SIGNATURES = 100
"""The most signature lines a note may carry (C2SP requires accepting 16)."""

MAX_TREE_SIZE = 2**64 - 1
"""Tree sizes are unsigned 64-bit integers in transparency tooling."""

_ROOT_SIZE = 32
_KEY_ID_SIZE = 4
_SIGNATURE_SIZE = 64
_KEY_SIZE = 32
_BODY_LINES = 3
_SIGNATURE_PREFIX = "\u2014 "
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


class CheckpointError(ValueError):
    """A checkpoint, signed note or key is malformed, or a signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    """A tree head as committed to by a C2SP tlog-checkpoint.

    Attributes:
        origin: The log's identity; non-empty, without Unicode spaces, ``+`` or
            control characters (C2SP recommends key-name rules for origins).
        size: The number of leaves, from 0 to 2**64 - 1.
        root: The 32-byte RFC 9162 root hash at that size.
    """

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        """Reject values that could not round-trip through a checkpoint body."""
        _check_name(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError(f"tree size must be an integer, not {self.size!r}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"tree size {self.size} is outside 0..2**64-1")
        if not isinstance(self.root, bytes) or len(self.root) != _ROOT_SIZE:
            raise CheckpointError(f"root hash must be {_ROOT_SIZE} bytes")

    def body(self) -> bytes:
        """Return the note text: origin, size and base64 root, each ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n".encode()


def generate_signing_key() -> Ed25519PrivateKey:
    """Generate a fresh Ed25519 checkpoint signing key."""
    return Ed25519PrivateKey.generate()


def private_key_to_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte private key, for the caller to store in a 0600 file."""
    return private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def private_key_from_bytes(data: bytes) -> Ed25519PrivateKey:
    """Load a private key written by :func:`private_key_to_bytes`.

    Raises:
        CheckpointError: If ``data`` is not 32 bytes.
    """
    if len(data) != _KEY_SIZE:
        raise CheckpointError(f"an Ed25519 private key has 32 bytes, not {len(data)}")
    return Ed25519PrivateKey.from_private_bytes(data)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Return the 4-byte signed-note key ID of an Ed25519 key under ``name``.

    Raises:
        CheckpointError: If ``name`` is not a valid key name.
    """
    _check_name(name, "key name")
    return _key_id(name, public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """Encode a verifier key as ``<name>+<hex key ID>+<base64(0x01 || public key)>``.

    Raises:
        CheckpointError: If ``name`` is not a valid key name.
    """
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    encoded = base64.b64encode(bytes([ED25519_TYPE]) + raw).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Parse a verifier key string strictly (no surrounding whitespace).

    Args:
        text: ``<name>+<hex key ID>+<base64(0x01 || 32-byte public key)>``.

    Returns:
        The key name, the 4-byte key ID and the public key.

    Raises:
        CheckpointError: If the string is malformed, not Ed25519, or its key ID
            does not match its name and key.
    """
    name, _, rest = text.partition("+")
    hex_id, _, encoded = rest.partition("+")
    _check_name(name, "key name")
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise CheckpointError("verifier key ID must be 8 lowercase hex digits")
    raw = _decode_base64(encoded, "verifier key")
    if len(raw) != 1 + _KEY_SIZE or raw[0] != ED25519_TYPE:
        raise CheckpointError("verifier key is not an Ed25519 (type 0x01) key")
    if _key_id(name, raw[1:]) != bytes.fromhex(hex_id):
        raise CheckpointError("verifier key ID does not match its name and public key")
    return name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def sign_note(text: bytes, name: str, private_key: Ed25519PrivateKey) -> bytes:
    """Sign a note text with Ed25519 as C2SP signed-note specifies.

    Args:
        text: Non-empty UTF-8 lines, each ending in a newline, without control
            characters other than newline.
        name: The key name (C2SP recommends the log's origin).
        private_key: The signing key.

    Returns:
        The signed note: text, a blank line and one signature line.

    Raises:
        CheckpointError: If the text or the name is not valid for a note.
    """
    if not text.endswith(b"\n"):
        raise CheckpointError("note text must be non-empty and end with a newline")
    _check_note_characters(text)
    public_key = private_key.public_key()
    signature = key_id(name, public_key) + private_key.sign(text)
    line = f"{_SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode('ascii')}\n"
    return text + b"\n" + line.encode()


def open_note(note: bytes, verifier_key: str) -> bytes:
    """Verify a signed note against one trusted key and return its text.

    Signatures from other keys are ignored, as C2SP requires; the note must carry
    exactly one signature from the trusted key (name and key ID) and it must
    verify.

    Args:
        note: The signed note.
        verifier_key: The trusted key, as from :func:`verifier_key`.

    Returns:
        The verified note text, including its final newline.

    Raises:
        CheckpointError: If the key or note is malformed, the trusted key's
            signature is missing, duplicated or wrong.
    """
    name, expected_id, public_key = parse_verifier_key(verifier_key)
    text, lines = _split_note(note)
    signatures = [
        signature
        for line_name, line_id, signature in map(_parse_signature_line, lines)
        if line_name == name and line_id == expected_id
    ]
    if not signatures:
        raise CheckpointError(f"note has no signature from key {name}+{expected_id.hex()}")
    if len(signatures) > 1:
        raise CheckpointError(f"note has more than one signature from key {name}")
    if len(signatures[0]) != _SIGNATURE_SIZE:
        raise CheckpointError(f"signature from key {name} is not {_SIGNATURE_SIZE} bytes")
    try:
        public_key.verify(signatures[0], text)
    except InvalidSignature:
        raise CheckpointError(f"signature from key {name} does not verify") from None
    return text


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> bytes:
    """Sign a checkpoint as a C2SP signed note.

    Args:
        checkpoint: The tree head to commit to.
        name: The key name; C2SP recommends the checkpoint's origin.
        private_key: The log's signing key.

    Returns:
        The signed note bytes.

    Raises:
        CheckpointError: If ``name`` is not a valid key name.
    """
    return sign_note(checkpoint.body(), name, private_key)


def open_checkpoint(note: bytes, verifier_key: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint against a trusted key and parse it strictly.

    Args:
        note: The signed note.
        verifier_key: The trusted key, as from :func:`verifier_key`.
        origin: If given, the origin the checkpoint must carry.

    Returns:
        The verified checkpoint.

    Raises:
        CheckpointError: On any problem: malformed note or body, extension lines,
            unknown key, bad signature, or an unexpected origin.
    """
    checkpoint = _parse_body(open_note(note, verifier_key))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def _split_note(note: bytes) -> tuple[bytes, list[str]]:
    """Split a signed note at its last blank line into text and signature lines."""
    decoded = _check_note_characters(note)
    split = decoded.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    block = decoded[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("note must end with a newline-terminated signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    return decoded[: split + 1].encode(), lines


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    """Parse ``— <name> <base64(key ID || signature)>`` into its three parts."""
    if not line.startswith(_SIGNATURE_PREFIX):
        raise CheckpointError("signature line must start with an em dash and a space")
    name, separator, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not separator:
        raise CheckpointError("signature line must be '— <key name> <signature>'")
    _check_name(name, "key name")
    raw = _decode_base64(encoded, "signature")
    if len(raw) <= _KEY_ID_SIZE:
        raise CheckpointError("signature is too short to hold a key ID and a signature")
    return name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]


def _parse_body(text: bytes) -> Checkpoint:
    """Parse a verified note text as exactly origin, size and root lines."""
    lines = text.decode("utf-8").split("\n")[:-1]
    if len(lines) < _BODY_LINES:
        raise CheckpointError("checkpoint needs origin, tree size and root hash lines")
    if len(lines) > _BODY_LINES:
        raise CheckpointError("checkpoint has extension lines, which are not accepted")
    origin, size_line, root_line = lines
    if not _DECIMAL.fullmatch(size_line):
        raise CheckpointError("tree size must be decimal digits without leading zeros")
    root = _decode_base64(root_line, "root hash")
    return Checkpoint(origin=origin, size=int(size_line), root=root)


def _check_note_characters(note: bytes) -> str:
    """Decode a note as UTF-8 and reject ASCII control characters but newline."""
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("note is not valid UTF-8") from None
    if any(ch < " " and ch != "\n" for ch in decoded):
        raise CheckpointError("note contains a control character")
    return decoded


def _check_name(name: str, what: str) -> None:
    """Reject empty names and names with spaces, plus signs or control characters."""
    if not isinstance(name, str) or not name:
        raise CheckpointError(f"{what} must be a non-empty string")
    if any(ch.isspace() or ch == "+" or ch < " " or ch == "\x7f" for ch in name):
        raise CheckpointError(f"{what} must not contain spaces, '+' or control characters")


def _decode_base64(text: str, what: str) -> bytes:
    """Decode standard, padded, canonical base64 (re-encoding gives ``text`` back)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:
        raise CheckpointError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _key_id(name: str, public_key: bytes) -> bytes:
    """Return ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + public_key)
    return digest.digest()[:_KEY_ID_SIZE]
