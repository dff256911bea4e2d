"""Keys: the master key, per (subject, category) data keys, and sealing of values.

Data keys are random 256-bit AES-GCM keys, one per (subject, category, key
version), stored in ``ledger_keys`` wrapped (AES-GCM) by the master key with the
subject, category and key version as associated data. Destroying a row is all
that erasure needs: every ciphertext sealed under that key becomes unreadable.

A sealed value is ``b64(version byte | key version (4) | nonce (12) | ciphertext+tag)``
with associated data binding it to its stream, its version in the stream and its
category, so a ciphertext moved to another event or category fails to open.

Per seal, the ring does only what differs between seals: the nonce (a fresh
``os.urandom``), the stream version in the associated data and the encryption.
What is fixed per live key (its AES-GCM cipher, the sealed value's head, the
subject's and category's bytes of the associated data) is built once and held
with the key; a key read from the store is unwrapped (and so checked) when read,
but its cipher is built only when a value is sealed or opened under it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigurationError, KeyUnavailable
from ledger.persistence.recorders import KeyRow

if TYPE_CHECKING:
    from ledger.persistence.recorders import LedgerRecorder

MASTER_KEY_ENV = "LEDGER_MASTER_KEY"
MASTER_KEY_FILE_ENV = "LEDGER_MASTER_KEY_FILE"
_SEAL_FORMAT = 1
_SEAL_PREFIX = bytes([_SEAL_FORMAT])
_KEY_BYTES = 32
_NONCE_BYTES = 12


def master_key_id(key: bytes) -> str:
    """A public fingerprint of the master key, stored to catch a wrong key early."""
    return hashlib.sha256(b"ledger master key id\x00" + key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class MasterKeySource:
    """Where the master key comes from: the environment, else a file."""

    path: Path
    env_value: str | None = None

    def load(self) -> bytes:
        """The master key; a clear error naming what is missing when it cannot be had."""
        if self.env_value:
            return decode_key(self.env_value, MASTER_KEY_ENV)
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            msg = (
                f"the master key file {self.path} does not exist; set {MASTER_KEY_ENV}"
                f" or {MASTER_KEY_FILE_ENV}, or restore the file (after an interrupted"
                f" rotation the new key is in {self.path.name}.new)"
            )
            raise KeyUnavailable(msg) from None
        except OSError as e:
            msg = f"cannot read the master key file {self.path}: {e.strerror}"
            raise KeyUnavailable(msg) from None
        return decode_key(text, str(self.path))

    def replace_with(self, key: bytes) -> Path:
        """Write a new key beside the file (``.new``, owner-only); returns its path."""
        fresh = self.path.with_name(self.path.name + ".new")
        fresh.unlink(missing_ok=True)
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(key).decode("ascii") + "\n")
        return fresh

    def create(self) -> bytes:
        """Make a new master key file readable by its owner only (or use the env key)."""
        if self.env_value:
            return decode_key(self.env_value, MASTER_KEY_ENV)
        key = AESGCM.generate_key(bit_length=256)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(self.path, flags, stat.S_IRUSR | stat.S_IWUSR)
        except FileExistsError:
            return self.load()
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(key).decode("ascii") + "\n")
        return key


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        msg = f"the key in {where} is not base64"
        raise ConfigurationError(msg) from None
    if len(key) != _KEY_BYTES:
        msg = f"the key in {where} must be 32 bytes (base64 of 256 bits)"
        raise ConfigurationError(msg)
    return key


_WRAP_AAD_PREFIX = b"ledger key\x00"


def _wrap_aad(subject_id: UUID, category: str, key_version: int) -> bytes:
    return _WRAP_AAD_PREFIX + subject_id.bytes + category.encode() + key_version.to_bytes(4)


def _seal_aad(subject_id: UUID, stream_version: int, category: str) -> bytes:
    return subject_id.bytes + stream_version.to_bytes(8) + category.encode()


class _DataKey:
    """An unwrapped data key; its cipher is built on first use (many held keys never are)."""

    __slots__ = ("_aes", "key")

    def __init__(self, key: bytes, aes: AESGCM | None = None) -> None:
        self.key = key
        self._aes = aes

    def aes(self) -> AESGCM:
        aes = self._aes
        if aes is None:
            aes = self._aes = AESGCM(self.key)
        return aes


_Live = tuple[bytes, _DataKey, bytes, bytes]
"""A live key and what every seal under it repeats: the sealed value's head (format
byte and key version), the key, and the subject's and the category's bytes of the
associated data (``_seal_aad`` puts the stream version between them)."""


def _live(subject: bytes, category: bytes, version: int, key: _DataKey) -> _Live:
    return _SEAL_PREFIX + version.to_bytes(4), key, subject, category


@dataclass
class KeyRing:
    """Data keys of the subjects an operation touches, unwrapped on demand.

    New keys are made by ``seal`` and held in ``pending`` until the append that
    uses them commits (``committed``) or fails (``discard``).

    At most about ``trim``'s bound of keys are held: past it, the keys of the
    subjects least recently used are dropped (read and unwrapped again if a later
    call needs them), not every key, so the subjects a service is busy with keep
    theirs.

    Held keys are indexed by the subject id's integer (``UUID.int``), not the UUID:
    a UUID's hash runs Python code, an int's does not, and a new key is looked up
    and stored under its subject several times.
    """

    recorder: LedgerRecorder
    master_key: bytes
    clock_now: datetime | None = None
    _live: dict[tuple[int, str], _Live] = field(default_factory=dict)
    _old: dict[tuple[int, str, int], _DataKey] = field(default_factory=dict)
    _loaded: set[UUID] = field(default_factory=set)
    _newest: dict[tuple[int, str], int] = field(default_factory=dict)
    _destroyed: set[tuple[int, str, int]] = field(default_factory=set)
    _live_by_subject: dict[int, set[str]] = field(default_factory=dict)
    _recent: OrderedDict[int, None] = field(default_factory=OrderedDict)
    """Subjects held, least recently used first."""
    pending: list[KeyRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.master_id = master_key_id(self.master_key)
        self._master = AESGCM(self.master_key)

    def load(self, subject_ids: Iterable[UUID]) -> None:
        """Fetch the keys of these subjects in one query, if not already held."""
        subject_ids = list(subject_ids)
        self._touch(subject_ids)
        wanted = [s for s in subject_ids if s not in self._loaded]
        if not wanted:
            return
        for row in self.recorder.select_keys(wanted):
            self._take(row)
        self._loaded.update(wanted)

    def take(self, subject_ids: Iterable[UUID], rows: Iterable[KeyRow]) -> None:
        """Hold the keys of these subjects from rows already read (an append's prefetch)."""
        # Set operations hash each id once (``UUID.__hash__`` runs in Python).
        subjects = set(subject_ids)
        self._touch(subjects)
        wanted = subjects - self._loaded
        if not wanted:
            return
        for row in rows:
            if row.subject_id in wanted:
                self._take(row)
        self._loaded |= wanted

    def holds(self, subject_ids: Iterable[UUID]) -> bool:
        """Whether every key these subjects had when last read (or made here) is held."""
        return self._loaded.issuperset(subject_ids)

    def live_categories(self, subject_id: UUID) -> frozenset[str]:
        """The categories a held subject has a live (not destroyed) key in."""
        return frozenset(self._live_by_subject.get(subject_id.int, ()))

    def _touch(self, subject_ids: Iterable[UUID]) -> None:
        recent = self._recent
        for subject in subject_ids:
            number = subject.int
            recent[number] = None
            recent.move_to_end(number)

    def trim(self, max_keys: int) -> None:
        """Past ``max_keys`` held keys, drop the least recently used subjects' keys.

        Down to three quarters of the bound, so that trimming is rare (flat memory).
        Between calls only (nothing pending). Subjects held without keys count too,
        four of them as one key.
        """
        if self.pending or (
            len(self._old) <= max_keys and len(self._recent) <= _SUBJECTS_PER_KEY * max_keys
        ):
            return
        keys = Counter(subject for subject, _, _ in self._old)
        held, subjects = len(self._old), len(self._recent)
        target = max_keys * 3 // 4
        gone: set[int] = set()
        for subject in self._recent:
            if held <= target and subjects <= _SUBJECTS_PER_KEY * target:
                break
            gone.add(subject)
            held -= keys.get(subject, 0)
            subjects -= 1
        self._drop(gone)

    def forget(self) -> None:
        """Drop every unwrapped key (after an erasure, or between unrelated batches)."""
        self._live.clear()
        self._live_by_subject.clear()
        self._old.clear()
        self._loaded.clear()
        self._recent.clear()
        self._newest.clear()
        self._destroyed.clear()
        self.pending.clear()

    def _take(self, row: KeyRow) -> None:
        subject, category = row.subject_id.int, row.category
        self._recent[subject] = None
        self._recent.move_to_end(subject)
        pair = (subject, category)
        newest = max(self._newest.get(pair, 0), row.key_version)
        self._newest[pair] = newest
        if row.wrapped is None:
            self._destroyed.add((subject, category, row.key_version))
        else:
            # Unwrapped now, so a wrong or altered key row is refused when read.
            self._old[(subject, category, row.key_version)] = _DataKey(self._unwrap(row))
        # Only the newest key of a category is live; once destroyed, the next
        # value of that category gets a fresh key with a higher version.
        live = self._old.get((subject, category, newest))
        if live is None:
            self._live.pop(pair, None)
            self._live_by_subject.get(subject, set()).discard(category)
        else:
            self._live[pair] = _live(row.subject_id.bytes, category.encode(), newest, live)
            self._live_by_subject.setdefault(subject, set()).add(category)

    def _unwrap(self, row: KeyRow) -> bytes:
        if row.master_key_id != self.master_id:
            msg = (
                f"a data key is wrapped by master key {row.master_key_id}, but the loaded"
                f" master key is {self.master_id}"
            )
            raise KeyUnavailable(msg)
        assert row.wrapped is not None  # noqa: S101 - tombstones are handled by _take
        nonce, wrapped = row.wrapped[:12], row.wrapped[12:]
        aad = _wrap_aad(row.subject_id, row.category, row.key_version)
        try:
            return self._master.decrypt(nonce, wrapped, aad)
        except InvalidTag:
            msg = "a data key does not unwrap under the master key: the key store was altered"
            raise KeyUnavailable(msg) from None

    def _new_key(
        self, subject_id: UUID, category: str, pair: tuple[int, str], now: datetime, random: bytes
    ) -> _Live:
        """A new live key for the pair; ``random``: the key's bytes, then its wrap's nonce."""
        version = self._newest.get(pair, 0) + 1
        self._newest[pair] = version
        self._touch((subject_id,))
        key, nonce = random[:_KEY_BYTES], random[_KEY_BYTES:]
        subject, category_bytes = subject_id.bytes, category.encode()
        aad = b"".join((_WRAP_AAD_PREFIX, subject, category_bytes, version.to_bytes(4)))
        wrapped = nonce + self._master.encrypt(nonce, key, aad)
        self.pending.append(KeyRow(subject_id, category, version, wrapped, self.master_id, now))
        held = _DataKey(key, AESGCM(key))
        self._old[(*pair, version)] = held
        live = self._live[pair] = _live(subject, category_bytes, version, held)
        self._live_by_subject.setdefault(pair[0], set()).add(category)
        return live

    def seal(
        self,
        subject_id: UUID,
        stream_version: int,
        category: str,
        plaintext: bytes,
        now: datetime,
    ) -> str:
        """Encrypt a value under the subject's live key for the category (made if none)."""
        pair = (subject_id.int, category)
        live = self._live.get(pair)
        if live is None:
            # One read of the system's randomness: the new key, its wrap's nonce, this nonce.
            random = os.urandom(_KEY_BYTES + 2 * _NONCE_BYTES)
            live = self._new_key(subject_id, category, pair, now, random[:-_NONCE_BYTES])
            nonce = random[-_NONCE_BYTES:]
        else:
            # A fresh nonce per seal, from the system, never derived: random 96-bit
            # nonces stay unique however many processes share a key.
            nonce = os.urandom(_NONCE_BYTES)
        head, key, subject, category_bytes = live
        # The associated data is _seal_aad's, from the key's parts made once.
        aad = b"".join((subject, stream_version.to_bytes(8), category_bytes))
        body = key.aes().encrypt(nonce, plaintext, aad)
        return binascii.b2a_base64(b"".join((head, nonce, body)), newline=False).decode("ascii")

    def open(
        self, subject_id: UUID, stream_version: int, category: str, sealed: str
    ) -> bytes | None:
        """Decrypt a sealed value; None when its key was destroyed (crypto-shredded)."""
        blob = base64.b64decode(sealed)
        key_version = int.from_bytes(blob[1:5])
        held = (subject_id.int, category, key_version)
        key = self._old.get(held)
        if key is None and held not in self._destroyed:
            # Held keys may predate another writer's: read this subject's rows again.
            for row in self.recorder.select_keys([subject_id]):
                self._take(row)
            key = self._old.get(held)
        if key is None:
            if held in self._destroyed:
                return None
            msg = (
                f"no data key {key_version} for category {category} of stream {subject_id}:"
                " the key store is missing a row it should hold"
            )
            raise KeyUnavailable(msg)
        aad = _seal_aad(subject_id, stream_version, category)
        try:
            return key.aes().decrypt(blob[5:17], blob[17:], aad)
        except InvalidTag:
            msg = (
                f"a sealed value of stream {subject_id} version {stream_version} does not"
                " open under its key: the event or the key store was altered"
            )
            raise KeyUnavailable(msg) from None

    def wrap_secret(self, secret: bytes, name: str) -> bytes:
        """Wrap a store-wide secret (the index key) under the master key."""
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, secret, b"ledger secret\x00" + name.encode())

    def unwrap_secret(self, wrapped: bytes, name: str) -> bytes:
        """Unwrap a store-wide secret."""
        try:
            return self._master.decrypt(
                wrapped[:12], wrapped[12:], b"ledger secret\x00" + name.encode()
            )
        except InvalidTag:
            msg = f"the {name} does not unwrap under the master key"
            raise KeyUnavailable(msg) from None

    def rewrapped(self, rows: list[KeyRow], new_master: bytes) -> list[KeyRow]:
        """The given key rows unwrapped with this ring's master key, wrapped with another."""
        new = AESGCM(new_master)
        new_id = master_key_id(new_master)
        out = []
        for row in rows:
            key = self._unwrap(row)
            aad = _wrap_aad(row.subject_id, row.category, row.key_version)
            nonce = os.urandom(12)
            wrapped = nonce + new.encrypt(nonce, key, aad)
            out.append(KeyRow(row.subject_id, row.category, row.key_version, wrapped, new_id,
                              row.created_at))  # fmt: skip
        return out

    def committed(self, new_subjects: Iterable[UUID] = ()) -> None:
        """The pending keys are stored now.

        ``new_subjects``, registered by the same write, have no keys but those made
        here: all of theirs are held.
        """
        new_subjects = list(new_subjects)
        self._touch(new_subjects)
        self._loaded.update(new_subjects)
        self.pending.clear()

    def discard(self, subject_ids: Collection[UUID] | None = None) -> None:
        """The append failed: forget keys that were never stored.

        ``subject_ids``: the failed call's subjects (every pending key is one of
        theirs); all their keys are forgotten, since another writer may have made
        one since (the likeliest reason a write is refused), and the others' kept.
        None: forget every key.
        """
        self.pending.clear()
        if subject_ids is None:
            self.forget()
            return
        self._drop({s.int for s in subject_ids})

    def _drop(self, gone: set[int]) -> None:
        """Forget every key of these subjects (by ``UUID.int``)."""
        if not gone:
            return
        self._loaded.difference_update(UUID(int=s) for s in gone)
        for subject in gone:
            self._recent.pop(subject, None)
        self._live = {k: v for k, v in self._live.items() if k[0] not in gone}
        self._old = {k: v for k, v in self._old.items() if k[0] not in gone}
        self._newest = {k: v for k, v in self._newest.items() if k[0] not in gone}
        self._destroyed = {k for k in self._destroyed if k[0] not in gone}
        for subject in gone:
            self._live_by_subject.pop(subject, None)


_SUBJECTS_PER_KEY = 4
"""Subjects held (with or without keys) per key of ``KeyRing.trim``'s bound."""


def index_digest(index_key: bytes, value: bytes) -> bytes:
    """A keyed digest for lookups (idempotency keys and content), never an unkeyed hash."""
    return hmac.digest(index_key, value, "sha256")


def index_digester(index_key: bytes) -> Callable[[bytes], bytes]:
    """``index_digest(index_key, ·)`` for many values: the key's HMAC state made once.

    Each digest copies the keyed state (``hmac.HMAC.copy``) instead of deriving it
    from the key again: a batch's digests share one key.
    """
    keyed = hmac.new(index_key, digestmod=hashlib.sha256)

    def digest(value: bytes) -> bytes:
        one = keyed.copy()
        one.update(value)
        return one.digest()

    return digest


SIGNING_KEY_ENV = "LEDGER_SIGNING_KEY"
SIGNING_KEY_FILE_ENV = "LEDGER_SIGNING_KEY_FILE"


@dataclass(frozen=True, slots=True)
class SigningKeySource:
    """Where the checkpoint signing key (Ed25519, raw 32 bytes, base64) comes from."""

    path: Path
    env_value: str | None = None

    @classmethod
    def beside(cls, master_key_path: Path, env_value: str | None = None) -> SigningKeySource:
        """The default file: ``x.signing.key`` beside the master key ``x.master.key``."""
        name = master_key_path.name.removesuffix(".master.key").removesuffix(".key")
        return cls(master_key_path.with_name(f"{name}.signing.key"), env_value)

    def load(self) -> bytes:
        """The private key bytes; a clear error when they cannot be had."""
        if self.env_value:
            return decode_key(self.env_value, SIGNING_KEY_ENV)
        try:
            return decode_key(self.path.read_text(encoding="ascii"), str(self.path))
        except FileNotFoundError:
            msg = (
                f"the signing key file {self.path} does not exist; set {SIGNING_KEY_ENV}"
                f" or {SIGNING_KEY_FILE_ENV}, or restore the file (verifying needs only"
                " the public key)"
            )
            raise KeyUnavailable(msg) from None

    def create(self, private_bytes: bytes) -> bytes:
        """Write a new key file readable by its owner only; an existing key is kept.

        Returns the key in force: the environment's, the existing file's, or the new one.
        """
        if self.env_value:
            return self.load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(
                self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR
            )
        except FileExistsError:
            return self.load()
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(private_bytes).decode("ascii") + "\n")
        return private_bytes
