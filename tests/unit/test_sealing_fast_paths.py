"""Sealing's shortcuts store exactly what the plain code stored, and a destroyed key shreds.

The key ring holds, per live key, what every seal under it repeats (its cipher, the
sealed value's head, the associated data's parts), builds the cipher of a key read
from the store only when a value is sealed or opened under it, and indexes held keys
by the subject's integer; the mapper seals ``fields`` in place. ``PlainRing`` and
``plain_stored`` below are the code these replaced, as it was: given the same random
bytes both write the same bytes, and each opens what the other sealed.
"""

from __future__ import annotations

import base64
import binascii
import os
import random
import re
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import KeyUnavailable
from ledger.persistence import keys
from ledger.persistence.keys import KeyRing, master_key_id
from ledger.persistence.mapper import PydanticMapper
from ledger.persistence.recorders import KeyRow
from ledger.persistence.transcoder import OrjsonTranscoder
from schemas.events import EVENT_TYPES, SEALED_TYPES

NOW = datetime(2024, 1, 1, tzinfo=UTC)
MASTER = b"m" * 32
SUBJECTS = [UUID(int=n * 0x1F2E3D4C5B6A79880123456789ABCDEF % 2**128) for n in range(1, 5)]
CATEGORIES = ["billing", "customer_basic", "marketing_profile"]


# --- the plain code, as it was ------------------------------------------------------


def _wrap_aad(subject_id: UUID, category: str, key_version: int) -> bytes:
    return b"ledger key\x00" + subject_id.bytes + category.encode() + key_version.to_bytes(4)


def _seal_aad(subject_id: UUID, stream_version: int, category: str) -> bytes:
    return subject_id.bytes + stream_version.to_bytes(8) + category.encode()


class PlainRing:
    """``KeyRing``'s sealing and reading before the shortcuts (one cipher per seal's key)."""

    def __init__(self, store: InMemoryKeys, urandom: Any = os.urandom) -> None:
        self.recorder = store
        self.urandom = urandom
        self.master_id = master_key_id(MASTER)
        self._master = AESGCM(MASTER)
        self._live: dict[tuple[UUID, str], tuple[int, AESGCM]] = {}
        self._old: dict[tuple[UUID, str, int], AESGCM] = {}
        self._loaded: set[UUID] = set()
        self._newest: dict[tuple[UUID, str], int] = {}
        self._destroyed: set[tuple[UUID, str, int]] = set()
        self._live_by_subject: dict[UUID, set[str]] = {}
        self.pending: list[KeyRow] = []

    def load(self, subject_ids: list[UUID]) -> None:
        wanted = [s for s in subject_ids if s not in self._loaded]
        if not wanted:
            return
        for row in self.recorder.select_keys(wanted):
            self._take(row)
        self._loaded.update(wanted)

    def take(self, subject_ids: list[UUID], rows: list[KeyRow]) -> None:
        wanted = {s for s in subject_ids if s not in self._loaded}
        if not wanted:
            return
        for row in rows:
            if row.subject_id in wanted:
                self._take(row)
        self._loaded.update(wanted)

    def holds(self, subject_ids: list[UUID]) -> bool:
        return all(s in self._loaded for s in subject_ids)

    def live_categories(self, subject_id: UUID) -> frozenset[str]:
        return frozenset(self._live_by_subject.get(subject_id, ()))

    def forget(self) -> None:
        for held in (self._live, self._live_by_subject, self._old, self._newest):
            held.clear()
        self._loaded.clear()
        self._destroyed.clear()
        self.pending.clear()

    def _take(self, row: KeyRow) -> None:
        pair = (row.subject_id, row.category)
        self._newest[pair] = max(self._newest.get(pair, 0), row.key_version)
        if row.wrapped is None:
            self._destroyed.add((row.subject_id, row.category, row.key_version))
        else:
            self._old[(*pair, row.key_version)] = AESGCM(self._unwrap(row))
        newest = self._newest[pair]
        live = self._old.get((*pair, newest))
        if live is None:
            self._live.pop(pair, None)
            self._live_by_subject.get(row.subject_id, set()).discard(row.category)
        else:
            self._live[pair] = (newest, live)
            self._live_by_subject.setdefault(row.subject_id, set()).add(row.category)

    def _unwrap(self, row: KeyRow) -> bytes:
        if row.master_key_id != self.master_id:
            raise KeyUnavailable("a data key is wrapped by another master key")
        assert row.wrapped is not None
        nonce, wrapped = row.wrapped[:12], row.wrapped[12:]
        aad = _wrap_aad(row.subject_id, row.category, row.key_version)
        try:
            return self._master.decrypt(nonce, wrapped, aad)
        except InvalidTag:
            msg = "a data key does not unwrap under the master key: the key store was altered"
            raise KeyUnavailable(msg) from None

    def _new_key(
        self, subject_id: UUID, category: str, now: datetime, random: bytes
    ) -> tuple[int, AESGCM]:
        version = self._newest.get((subject_id, category), 0) + 1
        self._newest[(subject_id, category)] = version
        key, nonce = random[:32], random[32:]
        wrapped = nonce + self._master.encrypt(nonce, key, _wrap_aad(subject_id, category, version))
        self.pending.append(KeyRow(subject_id, category, version, wrapped, self.master_id, now))
        aes = AESGCM(key)
        self._old[(subject_id, category, version)] = aes
        self._live[(subject_id, category)] = (version, aes)
        self._live_by_subject.setdefault(subject_id, set()).add(category)
        return version, aes

    def seal(
        self, subject_id: UUID, stream_version: int, category: str, plaintext: bytes, now: datetime
    ) -> str:
        live = self._live.get((subject_id, category))
        if live is None:
            random = self.urandom(32 + 2 * 12)
            live = self._new_key(subject_id, category, now, random[:-12])
            nonce = random[-12:]
        else:
            nonce = self.urandom(12)
        key_version, aes = live
        body = aes.encrypt(nonce, plaintext, _seal_aad(subject_id, stream_version, category))
        blob = b"".join((bytes([1]), key_version.to_bytes(4), nonce, body))
        return binascii.b2a_base64(blob, newline=False).decode("ascii")

    def open(
        self, subject_id: UUID, stream_version: int, category: str, sealed: str
    ) -> bytes | None:
        blob = base64.b64decode(sealed)
        key_version = int.from_bytes(blob[1:5])
        aes = self._old.get((subject_id, category, key_version))
        if aes is None and (subject_id, category, key_version) not in self._destroyed:
            for row in self.recorder.select_keys([subject_id]):
                self._take(row)
            aes = self._old.get((subject_id, category, key_version))
        if aes is None:
            if (subject_id, category, key_version) in self._destroyed:
                return None
            msg = (
                f"no data key {key_version} for category {category} of stream {subject_id}:"
                " the key store is missing a row it should hold"
            )
            raise KeyUnavailable(msg)
        aad = _seal_aad(subject_id, stream_version, category)
        try:
            return aes.decrypt(blob[5:17], blob[17:], aad)
        except InvalidTag:
            msg = (
                f"a sealed value of stream {subject_id} version {stream_version} does not"
                " open under its key: the event or the key store was altered"
            )
            raise KeyUnavailable(msg) from None

    def committed(self, new_subjects: list[UUID] = []) -> None:  # noqa: B006 - read only
        self._loaded.update(new_subjects)
        self.pending.clear()

    def discard(self, subject_ids: set[UUID]) -> None:
        self.pending.clear()
        gone = set(subject_ids)
        self._loaded -= gone
        self._live = {k: v for k, v in self._live.items() if k[0] not in gone}
        self._old = {k: v for k, v in self._old.items() if k[0] not in gone}
        self._newest = {k: v for k, v in self._newest.items() if k[0] not in gone}
        self._destroyed = {k for k in self._destroyed if k[0] not in gone}
        for subject in gone:
            self._live_by_subject.pop(subject, None)


def plain_stored(
    ring: PlainRing, originator_id: UUID, version: int, topic: str, state: dict[str, Any]
) -> StoredEvent:
    """``PydanticMapper.stored_from_state`` before it sealed in place."""
    if topic in SEALED_TYPES:
        data = state["data"]
        fields = data["fields"]
        sealed = ring.seal(originator_id, version, data["category"], orjson.dumps(fields), NOW)
        state["data"] = {**data, "fields": {"names": sorted(fields), "sealed": sealed}}
    class_version = EVENT_TYPES[topic].class_version
    if class_version > 1:
        state["class_version"] = class_version
    return StoredEvent(
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=orjson.dumps(state),
    )


# --- fakes --------------------------------------------------------------------------


class InMemoryKeys:
    """A fake key store: the rows the appends wrote, tombstones for destroyed keys."""

    def __init__(self) -> None:
        self.rows: list[KeyRow] = []

    def select_keys(self, subject_ids: Any) -> list[KeyRow]:
        wanted = set(subject_ids)
        return [r for r in self.rows if r.subject_id in wanted]

    def destroy(self, subject_id: UUID, category: str) -> None:
        """Erasure: the newest key of the pair loses its wrapped bytes."""
        for i, row in enumerate(self.rows):
            if (row.subject_id, row.category) == (subject_id, category) and row.wrapped:
                newest = max(
                    r.key_version
                    for r in self.rows
                    if (r.subject_id, r.category) == (subject_id, category)
                )
                if row.key_version == newest:
                    self.rows[i] = replace(row, wrapped=None, destroyed_at=NOW)


class SeededBytes:
    """``os.urandom`` replaced by a seeded stream, so two runs draw the same bytes."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def urandom(self, n: int) -> bytes:
        return self._random.randbytes(n)


def seeded_ring(monkeypatch: pytest.MonkeyPatch, store: InMemoryKeys, seed: int) -> KeyRing:
    monkeypatch.setattr(keys, "os", SimpleNamespace(urandom=SeededBytes(seed).urandom))
    return KeyRing(store, MASTER)  # type: ignore[arg-type]


# --- the same bytes -----------------------------------------------------------------

_subject = st.integers(0, len(SUBJECTS) - 1)
_category = st.integers(0, len(CATEGORIES) - 1)
_subjects = st.lists(_subject, max_size=len(SUBJECTS)).map(lambda s: [SUBJECTS[i] for i in s])
_operation = st.one_of(
    st.tuples(st.just("seal"), _subject, _category, st.binary(max_size=40)),
    st.tuples(st.just("commit"), _subjects),
    st.tuples(st.just("refuse"), _subjects),
    st.tuples(st.just("take"), _subjects),
    st.tuples(st.just("load"), _subjects),
    st.tuples(st.just("erase"), _subject, _category),
    st.tuples(st.just("elsewhere"), _subject, _category),
)


def _apply(
    ring: KeyRing | PlainRing, store: InMemoryKeys, operations: list[Any]
) -> tuple[list[Any], list[Any]]:
    """Run the operations; every observable answer, and the values sealed."""
    answers: list[Any] = []
    sealed: list[tuple[UUID, int, str, bytes, str]] = []
    version = 0
    for n, op in enumerate(operations):
        match op:
            case ("seal", s, c, plaintext):
                version += 1
                subject, category = SUBJECTS[s], CATEGORIES[c]
                ring.load([subject])  # an append reads a subject's keys before sealing
                value = ring.seal(subject, version, category, plaintext, NOW)
                sealed.append((subject, version, category, plaintext, value))
                answers.append(value)
            case ("commit", subjects):
                # Subjects registered by this write: no keys but those it made.
                stored = {r.subject_id for r in store.rows}
                store.rows += ring.pending
                ring.committed([s for s in subjects if s not in stored])
            case ("refuse", subjects):
                # Every pending key is one of the refused call's subjects.
                ring.discard({r.subject_id for r in ring.pending} | set(subjects))
            case ("take", subjects):
                ring.take(subjects, store.select_keys(SUBJECTS))
            case ("load", subjects):
                ring.load(subjects)
            case ("erase", s, c):
                store.rows += ring.pending
                ring.committed()
                store.destroy(SUBJECTS[s], CATEGORIES[c])
                ring.forget()
            case ("elsewhere", s, c):
                # Another process makes a key: this ring learns of it only by reading.
                other = PlainRing(store, SeededBytes(n).urandom)
                other.load([SUBJECTS[s]])
                other.seal(SUBJECTS[s], 1, CATEGORIES[c], b"elsewhere", NOW)
                store.rows += other.pending
        answers.append(list(ring.pending))
        answers.append([ring.holds([s]) for s in SUBJECTS])
        answers.append([ring.live_categories(s) for s in SUBJECTS])
    return answers, sealed


@settings(max_examples=150, deadline=None)
@given(st.lists(_operation, max_size=40), st.integers(0, 2**32))
def test_the_ring_seals_byte_for_byte_what_the_plain_ring_sealed(
    operations: list[Any], seed: int
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast_store, plain_store = InMemoryKeys(), InMemoryKeys()
        fast = seeded_ring(monkeypatch, fast_store, seed)
        plain = PlainRing(plain_store, SeededBytes(seed).urandom)
        fast_answers, sealed = _apply(fast, fast_store, operations)
        plain_answers, _ = _apply(plain, plain_store, operations)
    assert fast_answers == plain_answers
    assert fast_store.rows == plain_store.rows
    # Every value reads back alike from a fresh ring of either kind: the value
    # itself, None once its key was destroyed, or (its key refused with its call,
    # so never stored) the same error.
    fresh, fresh_plain = KeyRing(fast_store, MASTER), PlainRing(plain_store)  # type: ignore[arg-type]
    for subject, version, category, plaintext, value in sealed:
        opened = _outcome(fresh, subject, version, category, value)
        assert opened == _outcome(fresh_plain, subject, version, category, value)
        assert opened in (plaintext, None) or isinstance(opened, str)


def _outcome(
    ring: KeyRing | PlainRing, subject: UUID, version: int, category: str, value: str
) -> bytes | str | None:
    try:
        return ring.open(subject, version, category, value)
    except KeyUnavailable as e:
        return str(e)


def test_each_ring_opens_what_the_other_sealed() -> None:
    store = InMemoryKeys()
    fast, plain = KeyRing(store, MASTER), PlainRing(store)  # type: ignore[arg-type]
    values = []
    for n in range(200):
        subject, category = SUBJECTS[n % 4], CATEGORIES[n % 3]
        ring = fast if n % 2 else plain
        text = f"value {n}".encode()
        ring.load([subject])
        values.append((subject, n, category, text, ring.seal(subject, n, category, text, NOW)))
        store.rows += ring.pending
        ring.committed()
        (plain if n % 2 else fast).forget()  # the other one reads the new key row
    readers = KeyRing(store, MASTER), PlainRing(store)  # type: ignore[arg-type]
    for reader in readers:
        for subject, version, category, text, value in values:
            assert reader.open(subject, version, category, value) == text


def test_a_value_sealed_by_the_ring_opens_only_for_its_own_stream_version_and_category() -> None:
    store = InMemoryKeys()
    ring = KeyRing(store, MASTER)  # type: ignore[arg-type]
    value = ring.seal(SUBJECTS[0], 7, "billing", b"secret", NOW)
    ring.seal(SUBJECTS[1], 7, "billing", b"other", NOW)
    ring.seal(SUBJECTS[0], 8, "customer_basic", b"x", NOW)
    store.rows += ring.pending
    plain = PlainRing(store)
    plain.load(SUBJECTS)
    assert plain.open(SUBJECTS[0], 7, "billing", value) == b"secret"
    for moved in [(SUBJECTS[1], 7, "billing"), (SUBJECTS[0], 8, "billing"),
                  (SUBJECTS[0], 7, "customer_basic")]:  # fmt: skip
        with pytest.raises(KeyUnavailable, match="does not open under its key"):
            plain.open(*moved, value)


def _state(topic: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "occurred_at": "2024-01-01T00:00:00+00:00",
        "recorded_at": "2024-01-01T00:00:01+00:00",
        "actor": "crm",
        "source": None,
        "idempotency": None,
        "data": data,
    }


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_fields = st.dictionaries(st.text(min_size=1, max_size=10), _json, min_size=1, max_size=5)


@st.composite
def _event(draw: st.DrawFn) -> tuple[UUID, str, dict[str, Any]]:
    topic = draw(st.sampled_from([*sorted(SEALED_TYPES), "ConsentGranted", "FindingRecorded"]))
    data = draw(st.dictionaries(st.sampled_from(["purpose", "derived_from", "note"]), _json))
    if topic in SEALED_TYPES:
        # ``fields`` anywhere among the keys: the stored key order must not change.
        items = [*data.items()]
        at = draw(st.integers(0, len(items)))
        items[at:at] = [("category", draw(st.sampled_from(CATEGORIES)))]
        at = draw(st.integers(0, len(items)))
        items[at:at] = [("fields", draw(_fields))]
        data = dict(items)
    return draw(st.sampled_from(SUBJECTS)), topic, _state(topic, data)


@settings(max_examples=150, deadline=None)
@given(st.lists(_event(), min_size=1, max_size=25), st.integers(0, 2**32))
def test_the_mapper_stores_byte_for_byte_what_it_stored_before(
    events: list[tuple[UUID, str, dict[str, Any]]], seed: int
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast_store, plain_store = InMemoryKeys(), InMemoryKeys()
        mapper = PydanticMapper(transcoder=OrjsonTranscoder())
        mapper.keyring = seeded_ring(monkeypatch, fast_store, seed)
        plain = PlainRing(plain_store, SeededBytes(seed).urandom)
        for version, (subject, topic, state) in enumerate(events, start=1):
            mine, before = orjson.loads(orjson.dumps(state)), orjson.loads(orjson.dumps(state))
            stored = mapper.stored_from_state(subject, version, topic, mine, NOW)
            assert stored == plain_stored(plain, subject, version, topic, before)
            # What the caller holds afterwards is what it held before the change.
            assert orjson.dumps(mine) == orjson.dumps(before)
        assert mapper.keyring.pending == plain.pending


# --- nonces and shredding -----------------------------------------------------------


def test_nonces_never_repeat_across_many_seals() -> None:
    store = InMemoryKeys()
    ring = KeyRing(store, MASTER)  # type: ignore[arg-type]
    subjects = [uuid4() for _ in range(50)]
    nonces: list[bytes] = []
    for n in range(20_000):
        subject, category = subjects[n % 50], CATEGORIES[n % 3]
        blob = base64.b64decode(ring.seal(subject, n, category, b"v", NOW), validate=True)
        nonces.append(blob[5:17])
        if n % 1000 == 999:  # a batch ends: keys stored, then read back as another call
            store.rows += ring.pending
            ring.committed()
            ring.forget()
            ring.take(subjects, store.select_keys(subjects))
    nonces += [row.wrapped[:12] for row in store.rows if row.wrapped is not None]
    assert len(store.rows) == 150
    assert len(set(nonces)) == len(nonces) == 20_150


def test_a_destroyed_key_still_shreds_values_its_ring_held_unopened() -> None:
    store = InMemoryKeys()
    writer = KeyRing(store, MASTER)  # type: ignore[arg-type]
    subject = SUBJECTS[0]
    first = writer.seal(subject, 1, "billing", b"secret", NOW)
    store.rows += writer.pending
    writer.committed([subject])
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    mapper.keyring = KeyRing(store, MASTER)  # type: ignore[arg-type]
    mapper.keyring.take([subject], store.select_keys([subject]))  # held, its cipher unbuilt
    store.destroy(subject, "billing")
    mapper.keyring.forget()  # what an erasure does
    assert mapper.open_fields(subject, 1, "billing", first) is None
    assert PlainRing(store).open(subject, 1, "billing", first) is None
    # The next value gets a new key; the destroyed one is never used again.
    second = mapper.keyring.seal(subject, 2, "billing", b"new", NOW)
    assert [r.key_version for r in mapper.keyring.pending] == [2]
    assert base64.b64decode(second)[1:5] == (2).to_bytes(4)
    store.rows += mapper.keyring.pending
    reader = KeyRing(store, MASTER)  # type: ignore[arg-type]
    assert reader.open(subject, 2, "billing", second) == b"new"
    assert reader.open(subject, 1, "billing", first) is None


def test_a_key_row_altered_in_the_store_is_refused_when_read_not_when_first_used() -> None:
    store = InMemoryKeys()
    writer = KeyRing(store, MASTER)  # type: ignore[arg-type]
    writer.seal(SUBJECTS[0], 1, "billing", b"secret", NOW)
    (row,) = writer.pending
    assert row.wrapped is not None
    flipped = row.wrapped[:-1] + bytes([row.wrapped[-1] ^ 1])
    store.rows.append(replace(row, wrapped=flipped))
    message = "a data key does not unwrap under the master key: the key store was altered"
    with pytest.raises(KeyUnavailable, match=f"^{re.escape(message)}$"):
        KeyRing(store, MASTER).take([SUBJECTS[0]], store.rows)  # type: ignore[arg-type]


def test_a_refused_call_forgets_only_its_own_subjects_keys() -> None:
    store = InMemoryKeys()
    ring = KeyRing(store, MASTER)  # type: ignore[arg-type]
    kept, refused = SUBJECTS[0], SUBJECTS[1]
    ring.seal(kept, 1, "billing", b"a", NOW)
    store.rows += ring.pending
    ring.committed([kept])
    ring.seal(refused, 1, "billing", b"b", NOW)
    ring.discard({refused})
    assert ring.holds([kept])
    assert not ring.holds([refused])
    assert ring.live_categories(kept) == {"billing"}
    assert ring.live_categories(refused) == frozenset()
    ring.seal(kept, 2, "billing", b"c", NOW)
    ring.seal(refused, 2, "billing", b"d", NOW)
    assert [(r.subject_id, r.key_version) for r in ring.pending] == [(refused, 1)]
