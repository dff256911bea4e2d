"""C2SP signed checkpoints: interoperable with Go's note package, and hard to forge."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.integrity.checkpoint import (
    Checkpoint,
    CheckpointError,
    generate_signing_key,
    key_id,
    open_checkpoint,
    open_note,
    parse_verifier_key,
    private_key_from_bytes,
    private_key_to_bytes,
    sign_checkpoint,
    sign_note,
    verifier_key,
)

ORIGIN = "ledger.example/register"
ROOT = hashlib.sha256(b"some tree head").digest()
EMPTY_ROOT = hashlib.sha256(b"").digest()

# The example of golang.org/x/mod/sumdb/note (Sign and Open examples).
GO_SIGNER_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
GO_NOTE = GO_TEXT + f"\n\u2014 PeterNeumann {GO_SIGNATURE}\n".encode()
# Verifier keys of other implementations; the base64 of the last contains a '+'.
FOREIGN_VERIFIER_KEYS = [
    GO_VERIFIER_KEY,
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
    "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
]

KEY = private_key_from_bytes(bytes(range(32)))
OTHER_KEY = private_key_from_bytes(bytes(range(1, 33)))
VKEY = verifier_key(ORIGIN, KEY.public_key())
CHECKPOINT = Checkpoint(ORIGIN, 20852163, ROOT)
NOTE = sign_checkpoint(CHECKPOINT, ORIGIN, KEY)


# Every way a mangled verifier key or a forged note is refused by the exhaustive tests.
MANGLED_KEY = "|".join(
    map(
        re.escape,
        [
            "key name must be a non-empty string",
            "verifier key ID must be 8 lowercase hex digits",
            "verifier key ID does not match its name and public key",
            "verifier key is not valid base64",
            "verifier key is not an Ed25519 (type 0x01) key",
        ],
    )
)
FORGED_NOTE = "|".join(
    map(
        re.escape,
        [
            f"signature from key {ORIGIN} does not verify",
            f"signature from key {ORIGIN} is not 64 bytes",
            f"note has no signature from key {ORIGIN}+",
            "note has no blank line before its signatures",
            "note must end with a newline-terminated signature line",
            "note is not valid UTF-8",
            "note contains a control character",
            "signature is not valid base64",
            "signature is not canonical base64",
            "signature line must start with an em dash and a space",
            "signature line must be '\u2014 <key name> <signature>'",
            "key name must not contain spaces, '+' or control characters",
        ],
    )
)


def signed_body(body: bytes, key: Ed25519PrivateKey = KEY) -> bytes:
    """Sign an arbitrary text with the trusted key, bypassing Checkpoint's checks."""
    return sign_note(body, ORIGIN, key)


# The format, against other implementations.


def test_a_signed_checkpoint_opens_to_the_same_checkpoint() -> None:
    assert open_checkpoint(NOTE, VKEY) == CHECKPOINT
    assert open_checkpoint(NOTE, VKEY, origin=ORIGIN) == CHECKPOINT


def test_the_body_is_origin_size_and_base64_root_each_on_its_own_line() -> None:
    # The example of C2SP tlog-checkpoint.
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    checkpoint = Checkpoint("example.com/behind-the-sofa", 20852163, root)
    assert checkpoint.body() == (
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_the_signed_note_is_the_body_a_blank_line_and_an_em_dash_signature_line() -> None:
    body, signature_line = NOTE.split(b"\n\n")
    assert body + b"\n" == CHECKPOINT.body()
    prefix = f"\u2014 {ORIGIN} ".encode()
    assert signature_line.startswith(prefix)
    assert signature_line.endswith(b"=\n")
    raw = base64.b64decode(signature_line[len(prefix) : -1])
    assert len(raw) == 4 + 64
    assert raw[:4] == key_id(ORIGIN, KEY.public_key())


def test_notes_are_byte_identical_to_those_of_the_go_note_package() -> None:
    go_key = private_key_from_bytes(GO_SIGNER_SEED)
    assert verifier_key("PeterNeumann", go_key.public_key()) == GO_VERIFIER_KEY
    assert sign_note(GO_TEXT, "PeterNeumann", go_key) == GO_NOTE
    assert open_note(GO_NOTE, GO_VERIFIER_KEY) == GO_TEXT


def test_the_key_id_is_the_truncated_hash_of_name_newline_type_and_key() -> None:
    public = KEY.public_key().public_bytes_raw()
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert key_id(ORIGIN, KEY.public_key()) == expected
    encoded = base64.b64encode(b"\x01" + public).decode()
    assert f"{ORIGIN}+{expected.hex()}+{encoded}" == VKEY


@pytest.mark.parametrize("text", FOREIGN_VERIFIER_KEYS)
def test_verifier_keys_of_other_implementations_parse_and_round_trip(text: str) -> None:
    name, identifier, public_key = parse_verifier_key(text)
    assert key_id(name, public_key) == identifier
    assert verifier_key(name, public_key) == text


def test_every_mangled_verifier_key_is_rejected() -> None:
    # As in the Go package's tests: every proper substring, every byte plus one.
    for i in range(len(GO_VERIFIER_KEY) + 1):
        for j in range(i, len(GO_VERIFIER_KEY) + 1):
            if (i, j) != (0, len(GO_VERIFIER_KEY)):
                with pytest.raises(CheckpointError, match=MANGLED_KEY):
                    parse_verifier_key(GO_VERIFIER_KEY[i:j])
    for i in range(len(GO_VERIFIER_KEY)):
        mangled = GO_VERIFIER_KEY[:i] + chr(ord(GO_VERIFIER_KEY[i]) + 1) + GO_VERIFIER_KEY[i + 1 :]
        with pytest.raises(CheckpointError, match=MANGLED_KEY):
            parse_verifier_key(mangled)


@pytest.mark.parametrize("key_type", [0x00, 0x02, 0x04, 0xFF])
def test_a_verifier_key_of_another_signature_type_is_rejected(key_type: int) -> None:
    public = KEY.public_key().public_bytes_raw()
    identifier = hashlib.sha256(b"k\n" + bytes([key_type]) + public).digest()[:4]
    encoded = base64.b64encode(bytes([key_type]) + public).decode()
    with pytest.raises(CheckpointError, match="not an Ed25519"):
        parse_verifier_key(f"k+{identifier.hex()}+{encoded}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VKEY + "\n", "verifier key is not valid base64"),
        (" " + VKEY, "key name must not contain spaces, '+' or control characters"),
        (VKEY.replace("+", "+" + "0", 1), "verifier key ID must be 8 lowercase hex digits"),
        (VKEY.upper(), "verifier key ID must be 8 lowercase hex digits"),
        (VKEY[:-1], "verifier key is not valid base64"),
        (VKEY + "AAAA", "verifier key is not an Ed25519 (type 0x01) key"),
        (VKEY + "=", "verifier key is not canonical base64"),
        (ORIGIN, "verifier key ID must be 8 lowercase hex digits"),
        ("", "key name must be a non-empty string"),
    ],
)
def test_a_malformed_verifier_key_is_rejected(text: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        parse_verifier_key(text)


def test_private_keys_round_trip_through_their_raw_32_bytes() -> None:
    key = generate_signing_key()
    raw = private_key_to_bytes(key)
    assert len(raw) == 32
    restored = private_key_from_bytes(raw)
    assert verifier_key(ORIGIN, restored.public_key()) == verifier_key(ORIGIN, key.public_key())
    with pytest.raises(CheckpointError, match="32 bytes"):
        private_key_from_bytes(raw + b"\x00")


def test_empty_and_maximal_trees_round_trip() -> None:
    for checkpoint in (Checkpoint(ORIGIN, 0, EMPTY_ROOT), Checkpoint(ORIGIN, 2**64 - 1, ROOT)):
        assert open_checkpoint(sign_checkpoint(checkpoint, ORIGIN, KEY), VKEY) == checkpoint


def test_a_checkpoint_error_is_a_value_error() -> None:
    assert issubclass(CheckpointError, ValueError)


# Forgeries and malformed notes.


def test_flipping_any_bit_of_a_signed_note_makes_it_fail() -> None:
    for position in range(len(NOTE)):
        for mask in (1, 2, 4, 8, 16, 32, 64, 128, 255):
            forged = bytearray(NOTE)
            forged[position] ^= mask
            with pytest.raises(CheckpointError, match=FORGED_NOTE):
                open_checkpoint(bytes(forged), VKEY)


def test_every_truncation_or_extension_of_a_signed_note_fails() -> None:
    for length in range(len(NOTE)):
        with pytest.raises(CheckpointError, match=FORGED_NOTE):
            open_checkpoint(NOTE[:length], VKEY)
    for suffix in (b"\n", b" ", b"x", b"\n\n", b"\x00"):
        with pytest.raises(CheckpointError, match=FORGED_NOTE):
            open_checkpoint(NOTE + suffix, VKEY)
    for prefix in (b"\n", b" ", b"x"):
        with pytest.raises(CheckpointError, match=FORGED_NOTE):
            open_checkpoint(prefix + NOTE, VKEY)


def test_a_signature_from_another_key_fails() -> None:
    for name in (ORIGIN, "someone.else/log"):
        note = sign_checkpoint(CHECKPOINT, name, OTHER_KEY)
        with pytest.raises(CheckpointError, match="no signature from key"):
            open_checkpoint(note, VKEY)


def test_another_keys_signature_under_the_trusted_key_id_fails() -> None:
    body, _ = NOTE.split(b"\n\n")
    forged_raw = key_id(ORIGIN, KEY.public_key()) + OTHER_KEY.sign(CHECKPOINT.body())
    forged = body + f"\n\n\u2014 {ORIGIN} {base64.b64encode(forged_raw).decode()}\n".encode()
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(forged, VKEY)


def test_a_signature_over_another_checkpoint_fails() -> None:
    _, signature_line = NOTE.split(b"\n\n")
    for other in (Checkpoint(ORIGIN, 20852164, ROOT), Checkpoint(ORIGIN, 20852163, EMPTY_ROOT)):
        forged = other.body() + b"\n" + signature_line
        with pytest.raises(CheckpointError, match="does not verify"):
            open_checkpoint(forged, VKEY)


def test_signatures_from_unknown_keys_are_ignored() -> None:
    cosigned = sign_note(NOTE.split(b"\n\n")[0] + b"\n", "witness.example", OTHER_KEY)
    other_line = cosigned.split(b"\n\n")[1]
    assert open_checkpoint(NOTE + other_line, VKEY) == CHECKPOINT
    body, own_line = NOTE.split(b"\n\n")
    assert open_checkpoint(body + b"\n\n" + other_line + own_line, VKEY) == CHECKPOINT


def test_a_second_signature_from_the_trusted_key_fails() -> None:
    own_line = NOTE.split(b"\n\n")[1]
    with pytest.raises(CheckpointError, match="more than one signature"):
        open_checkpoint(NOTE + own_line, VKEY)


def test_a_note_without_signatures_or_blank_line_fails() -> None:
    body = CHECKPOINT.body()
    own_line = NOTE.split(b"\n\n")[1]
    for note in (body, body + b"\n", body + own_line, body + b"\n\n" + own_line):
        with pytest.raises(CheckpointError, match=FORGED_NOTE):
            open_checkpoint(note, VKEY)


EXTRA_LINES = "checkpoint has extension lines, which are not accepted"
MISSING_LINES = "checkpoint needs origin, tree size and root hash lines"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\nextension\n", EXTRA_LINES),
        (f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n\n", EXTRA_LINES),
        (f"{ORIGIN}\n20852163\n", MISSING_LINES),
        (f"{ORIGIN}\n{base64.b64encode(ROOT).decode()}\n", MISSING_LINES),
        (f"\n{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n", EXTRA_LINES),
        (f"{ORIGIN}\n\n20852163\n{base64.b64encode(ROOT).decode()}\n", EXTRA_LINES),
    ],
)
def test_a_correctly_signed_note_with_an_extra_or_missing_line_fails(
    body: str, message: str
) -> None:
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        open_checkpoint(signed_body(body.encode()), VKEY)


@pytest.mark.parametrize(
    "size", ["007", "00", "+7", "-1", " 7", "7 ", "", "1_000", "0x10", "\u0667", "7.0"]
)
def test_a_correctly_signed_note_with_a_malformed_size_fails(size: str) -> None:
    body = f"{ORIGIN}\n{size}\n{base64.b64encode(ROOT).decode()}\n"
    with pytest.raises(CheckpointError, match=r"^tree size must be decimal digits without leading"):
        open_checkpoint(signed_body(body.encode()), VKEY)


def test_a_correctly_signed_note_with_a_size_beyond_64_bits_fails() -> None:
    body = f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n"
    with pytest.raises(
        CheckpointError, match=re.escape(f"tree size {2**64} is outside 0..2**64-1")
    ):
        open_checkpoint(signed_body(body.encode()), VKEY)


def non_canonical_roots() -> list[tuple[str, str]]:
    encoded = base64.b64encode(ROOT).decode()
    last = encoded[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    padding_bits = alphabet[alphabet.index(last) ^ 1]
    invalid, size = "root hash is not valid base64", "root hash must be 32 bytes"
    return [
        (encoded[:-2] + padding_bits + "=", "root hash is not canonical base64"),
        (encoded.rstrip("="), invalid),
        (encoded + "=", invalid),
        (base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(), invalid),
        (base64.b64encode(ROOT[:31]).decode(), size),
        (base64.b64encode(ROOT + b"\x00").decode(), size),
        (ROOT.hex(), size),
        (" " + encoded, invalid),
    ]


@pytest.mark.parametrize(("root", "message"), non_canonical_roots())
def test_a_correctly_signed_note_with_a_malformed_root_fails(root: str, message: str) -> None:
    body = f"{ORIGIN}\n20852163\n{root}\n"
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        open_checkpoint(signed_body(body.encode()), VKEY)


SPACES = "origin must not contain spaces, '+' or control characters"


@pytest.mark.parametrize(
    ("origin", "built", "opened"),
    [
        ("", "origin must be a non-empty string", "origin must be a non-empty string"),
        ("with space", SPACES, SPACES),
        ("a+b", SPACES, SPACES),
        ("tab\there", SPACES, "note contains a control character"),
        ("nbsp\u00a0here", SPACES, SPACES),
    ],
)
def test_an_invalid_origin_is_refused_when_building_or_opening(
    origin: str, built: str, opened: str
) -> None:
    with pytest.raises(CheckpointError, match=f"^{re.escape(built)}$"):
        Checkpoint(origin, 1, ROOT)
    body = f"{origin}\n1\n{base64.b64encode(ROOT).decode()}\n".encode()
    with pytest.raises(CheckpointError, match=f"^{re.escape(opened)}$"):
        open_checkpoint(sign_note(body, ORIGIN, KEY), VKEY)


def test_an_unexpected_origin_fails() -> None:
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(NOTE, VKEY, origin="ledger.example/other")


@pytest.mark.parametrize(
    ("size", "root", "message"),
    [
        (-1, ROOT, "tree size -1 is outside 0..2**64-1"),
        (2**64, ROOT, f"tree size {2**64} is outside 0..2**64-1"),
        (True, ROOT, "tree size must be an integer, not True"),
        (1, ROOT[:31], "root hash must be 32 bytes"),
        (1, ROOT.hex(), "root hash must be 32 bytes"),
    ],
)
def test_an_impossible_checkpoint_cannot_be_built(size: object, root: object, message: str) -> None:
    with pytest.raises(CheckpointError, match=f"^{re.escape(message)}$"):
        Checkpoint(ORIGIN, size, root)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "prefix", ["- ", "\u2013 ", "\u2014\u2014 ", "\u2014\u00a0", "\u2014", " \u2014 "]
)
def test_a_signature_line_must_start_with_an_em_dash_and_a_space(prefix: str) -> None:
    body, own_line = NOTE.split(b"\n\n")
    forged = body + b"\n\n" + own_line.replace("\u2014 ".encode(), prefix.encode(), 1)
    with pytest.raises(
        CheckpointError, match=r"^signature line must start with an em dash and a space$"
    ):
        open_checkpoint(forged, VKEY)


def test_an_em_dash_and_two_spaces_leave_the_signature_line_without_a_key_name() -> None:
    body, own_line = NOTE.split(b"\n\n")
    forged = body + b"\n\n" + own_line.replace("\u2014 ".encode(), "\u2014  ".encode(), 1)
    with pytest.raises(CheckpointError, match=r"^key name must be a non-empty string$"):
        open_checkpoint(forged, VKEY)


@pytest.mark.parametrize("character", ["\r", "\t", "\x00", "\x1b"])
def test_a_note_with_a_control_character_fails(character: str) -> None:
    body = f"{ORIGIN}{character}\n1\n{base64.b64encode(ROOT).decode()}\n".encode()
    with pytest.raises(CheckpointError, match="control character"):
        sign_note(body, ORIGIN, KEY)
    forged = NOTE.replace(b"\n\n", f"\n{character}\n".encode())
    with pytest.raises(CheckpointError, match="control character"):
        open_checkpoint(forged, VKEY)


def test_a_note_that_is_not_utf8_fails() -> None:
    with pytest.raises(CheckpointError, match="UTF-8"):
        open_checkpoint(NOTE.replace("\u2014".encode(), b"\x97"), VKEY)


@pytest.mark.parametrize("name", ["", "two words", "plus+sign", "new\nline"])
def test_signing_under_an_invalid_key_name_is_refused(name: str) -> None:
    with pytest.raises(CheckpointError, match="key name"):
        sign_checkpoint(CHECKPOINT, name, KEY)


def test_signing_a_text_without_a_final_newline_is_refused() -> None:
    with pytest.raises(CheckpointError, match="newline"):
        sign_note(CHECKPOINT.body()[:-1], ORIGIN, KEY)
