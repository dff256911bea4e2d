"""The ledger application: publish notices, append batches atomically, read streams.

``Ledger`` is an eventsourcing ``Application`` whose mapper (pydantic + orjson +
per-subject sealing) and recorder (the library's, plus side tables) are the
ledger's own. Appends bypass ``Application.save`` (which builds a processing
event and aggregate bookkeeping per event) and hand a call's stored events to the
recorder's ``insert_chunks`` as they are made: one transaction per call.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent
from eventsourcing.utils import Environment, get_topic
from pydantic import BaseModel

from ledger.appending.batch import (
    BatchState,
    ParsedLine,
    check_batch,
    digest_idempotency,
    parse_lines,
)
from ledger.appending.histories import HistoryCache, WrittenState
from ledger.appending.judging import (
    FINDING,
    JUDGED_TYPES,
    LATE_TYPES,
    Judge,
    Judged,
    SubjectHistory,
    finding_data,
)
from ledger.appending.known import known_reads
from ledger.appending.listener import CommitListener, NoListener
from ledger.appending.outcomes import AppendResult, GroupRequest, Recorded, Written
from ledger.appending.registry import NOTICE_STREAM, RECIPIENT_STREAM, Registry
from ledger.clock import Clock, SystemClock
from ledger.domain.register import NoticeHistory
from ledger.domain.rules import reference_holds_identity_code
from ledger.errors import (
    AlreadyInitialised,
    BatchRejected,
    ConfigurationError,
    KeyUnavailable,
    LedgerError,
    NotInitialised,
    Rule,
    StoreUnavailable,
    SubjectNotFound,
    Violation,
    WriteConflict,
)
from ledger.integrity.checkpoint import (
    generate_signing_key,
    private_key_from_bytes,
    private_key_to_bytes,
    verifier_key,
)
from ledger.persistence.keys import (
    KeyRing,
    MasterKeySource,
    SigningKeySource,
    index_digester,
    master_key_id,
)
from ledger.persistence.mapper import PydanticMapper, as_uuid, stored_leaf
from ledger.persistence.recorders import Chunk, KeyRow, LedgerRecorder, Prefetch, SideRows
from ledger.persistence.recorders_postgres import PostgresLedgerRecorder
from ledger.persistence.recorders_sqlite import SQLiteLedgerRecorder
from ledger.persistence.store import (
    StoreConfig,
    check_reachable,
    ensure_postgres_schema,
    store_failure,
)
from ledger.persistence.transcoder import OrjsonTranscoder, utc_text
from schemas import events as ev
from schemas.base import invalid_character
from schemas.register import RegisterDefinition

_INDEX_KEY = "index_key"
_MASTER_ID = "master_key_id"
_ORIGIN = "checkpoint_origin"
_VERIFIER_KEY = "verifier_key"
_RETRIES = 12
"""Checks again after a concurrent writer won, with jittered backoff capped at 0.5 s."""
_MAX_CACHED_KEYS = 4096
_CHUNK_EVENTS = 200
"""Events per chunk a large call is handed to the store in (``Ledger._stored_chunks``):
PostgreSQL writes one while the next is made."""
_SHOWN_REFERENCE = 64
"""A longer unknown reference is not repeated in the error (it is no reference of ours)."""
CHANGE_TYPES = frozenset(
    {"PersonalDataRecorded", "PersonalDataErased", "SubjectErased", "ProcessingRestricted"}
)
"""What an Art. 19 notification can answer: rectification, erasure, restriction."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _alone(method: Callable[Concatenate[Ledger, _P], _R]) -> Callable[Concatenate[Ledger, _P], _R]:
    """The method run under the ledger's lock (``Ledger.exclusive``)."""

    @functools.wraps(method)
    def held(self: Ledger, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return held


class Ledger(Application[UUID]):
    """The write side: notices, appends, streams.

    Safe to share between threads: what a ledger holds in memory between calls (the
    data keys and the keys a call has made but not yet stored, the history cache,
    the registry) is used by one call at a time. Each call that uses it holds the
    ledger's lock from start to commit (``exclusive``); calls in one process could
    not commit side by side anyway (SQLite's one writer, the events table's lock on
    PostgreSQL), and a thread waiting for the lock holds no connection.
    """

    name = "Ledger"
    mapper: PydanticMapper  # always ours: see construct_mapper

    def __init__(
        self,
        store: StoreConfig,
        master_key: MasterKeySource,
        *,
        signing_key: SigningKeySource | None = None,
        clock: Clock | None = None,
        create: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        self.store = store
        self.signing_key = signing_key or SigningKeySource.beside(master_key.path)
        self.clock: Clock = clock or SystemClock()
        check_reachable(store)
        if create and store.kind == "postgresql":
            ensure_postgres_schema(store)
        env = dict(store.env)
        recorder_cls = SQLiteLedgerRecorder if store.kind == "sqlite" else PostgresLedgerRecorder
        env["APPLICATION_RECORDER_TOPIC"] = get_topic(recorder_cls)
        env["CREATE_TABLE"] = "y" if create else "n"
        if store.sqlite_path is not None and not create and not store.sqlite_path.exists():
            msg = f"no ledger at {store.sqlite_path}: run `ledger init --register FILE` first"
            raise NotInitialised(msg)
        try:
            super().__init__(env)
            self.ledger_recorder: LedgerRecorder = self.recorder  # type: ignore[assignment]
            has_tables = self.ledger_recorder.has_ledger_tables()
        except PersistenceError as e:
            raise store_failure(store, e) from e
        if not has_tables:
            msg = f"{store.redacted()} is not a ledger: run `ledger init --register FILE` first"
            raise NotInitialised(msg)
        self._registry = Registry()
        self._histories = HistoryCache()
        self.key_source = master_key
        self._keyring: KeyRing | None = None
        self._index_key: bytes | None = None
        self._index_digest: Callable[[bytes], bytes] | None = None
        self.listener: CommitListener = NoListener()
        self._deferring: dict[int, int] = {}
        """Threads inside ``one_call`` (by ident) and how deep."""
        self._deferred: set[int] = set()
        """Those of them whose calls committed since they entered it."""

    # --- wiring -------------------------------------------------------------------

    @property
    def datastore(self) -> Any:
        """The library's datastore behind the recorder, shared with the views."""
        return self.ledger_recorder.datastore

    def _committed(self) -> None:
        """Tell the listener a call committed (once per outermost call)."""
        me = threading.get_ident()
        if me in self._deferring:
            self._deferred.add(me)
        else:
            self.listener.committed()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the ledger alone (re-entrant): for work of several calls, as an erasure.

        Every call that uses what the ledger holds in memory takes the same lock.
        """
        with self._lock:
            yield

    @contextmanager
    def one_call(self) -> Iterator[None]:
        """Treat every write inside as one call: the listener hears of it once, at the end.

        The listener is told even when a later write inside fails, so what committed
        before the failure is sealed like any other committed call. Per thread: a call
        of another thread is told of when it commits, as if it were alone; and the
        thread that entered is the one that leaves, even when a generator's steps
        (``append_stream``'s) ran on several threads.
        """
        me = threading.get_ident()
        with self._lock:
            self._deferring[me] = self._deferring.get(me, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                depth = self._deferring.pop(me) - 1
                if depth:
                    self._deferring[me] = depth
                elif me in self._deferred:
                    self._deferred.discard(me)
                    self.listener.committed()

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """Only the store's settings: never let stray process variables pick a backend."""
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> PydanticMapper:
        """The pydantic mapper with the orjson transcoder."""
        return PydanticMapper(transcoder=OrjsonTranscoder())

    @property
    def keyring(self) -> KeyRing:
        """The data keys, opened with the master key on first use."""
        if self._keyring is not None:
            return self._keyring
        with self._lock:
            return self._keyring if self._keyring is not None else self._open_keyring()

    def _open_keyring(self) -> KeyRing:
        """The key ring under the master key, checked against the store's (lock held)."""
        key = self.key_source.load()
        stored_id = self.ledger_recorder.get_meta(_MASTER_ID)
        if stored_id is not None and stored_id.decode() != master_key_id(key):
            msg = (
                f"the master key ({master_key_id(key)}) is not the one this store was"
                f" created with ({stored_id.decode()}); check {self.key_source.path}"
                " or LEDGER_MASTER_KEY"
            )
            raise KeyUnavailable(msg)
        ring = self._keyring = KeyRing(self.ledger_recorder, key)
        assert isinstance(self.mapper, PydanticMapper)  # noqa: S101
        self.mapper.keyring = ring
        return ring

    def forget_keys(self) -> None:
        """Drop the unwrapped keys and the master key (after a rotation)."""
        with self._lock:
            self._keyring = None
            self._index_key = None
            self._index_digest = None
            self.mapper.keyring = None

    @property
    def index_key(self) -> bytes:
        """The key for idempotency digests, unwrapped from ledger_meta."""
        if self._index_key is None:
            wrapped = self.ledger_recorder.get_meta(_INDEX_KEY)
            if wrapped is None:
                msg = "the store has no index key: it was not initialised by `ledger init`"
                raise NotInitialised(msg)
            self._index_key = self.keyring.unwrap_secret(wrapped, _INDEX_KEY)
        return self._index_key

    @property
    def index_digest(self) -> Callable[[bytes], bytes]:
        """``index_digest(self.index_key, ·)``, the key's HMAC state made once (3 µs a call)."""
        if self._index_digest is None:
            self._index_digest = index_digester(self.index_key)
        return self._index_digest

    # --- notices ------------------------------------------------------------------

    @classmethod
    def initialise(
        cls,
        store: StoreConfig,
        master_key: MasterKeySource,
        definition: RegisterDefinition,
        digest: str,
        *,
        signing_key: SigningKeySource | None = None,
        effective_from: datetime | None = None,
        clock: Clock | None = None,
    ) -> Ledger:
        """Create the tables, the keys and the first notice version (``ledger init``)."""
        ledger = cls(store, master_key, signing_key=signing_key, clock=clock, create=True)
        if ledger.ledger_recorder.get_meta(_MASTER_ID) is not None:
            msg = f"{store.redacted()} is already initialised; nothing was changed"
            raise AlreadyInitialised(msg)
        key = master_key.create()
        ring = KeyRing(ledger.ledger_recorder, key)
        origin = f"consent-ledger.invalid/{uuid4().hex[:16]}"
        private = ledger.signing_key.create(private_key_to_bytes(generate_signing_key()))
        signer = private_key_from_bytes(private)
        try:
            ledger.ledger_recorder.put_meta(
                {
                    _MASTER_ID: master_key_id(key).encode(),
                    _INDEX_KEY: ring.wrap_secret(os.urandom(32), _INDEX_KEY),
                    _ORIGIN: origin.encode(),
                    _VERIFIER_KEY: verifier_key(origin, signer.public_key()).encode(),
                }
            )
        except IntegrityError:
            msg = f"{store.redacted()} is already initialised; nothing was changed"
            raise AlreadyInitialised(msg) from None
        ledger.publish_notice(definition, digest, effective_from=effective_from)
        return ledger

    def verifier_key(self) -> str:
        """The public key auditors check checkpoints with (C2SP note verifier key)."""
        value = self.ledger_recorder.get_meta(_VERIFIER_KEY)
        if value is None:
            msg = "the store has no signing key: it was not initialised by `ledger init`"
            raise NotInitialised(msg)
        return value.decode()

    def signing_identity(self) -> tuple[str, bytes]:
        """The checkpoint origin and the private signing key, checked against the store."""
        private = self.signing_key.load()
        origin = self.verifier_key().split("+", 1)[0]
        public = verifier_key(origin, private_key_from_bytes(private).public_key())
        if public != self.verifier_key():
            msg = f"the signing key in {self.signing_key.path} is not this store's"
            raise KeyUnavailable(msg)
        return origin, private

    @_alone
    def publish_notice(
        self,
        definition: RegisterDefinition,
        digest: str,
        *,
        effective_from: datetime | None = None,
        actor: str = "ledger",
    ) -> int:
        """Publish a notice version; returns its position. Versions only move forward."""
        self._sync_registry()
        effective = effective_from or definition.effective_from or self.clock.now()
        history = self._registry.notices
        if history.get(definition.version) is not None:
            msg = f"notice version {definition.version} is already published"
            raise ConfigurationError(msg)
        latest = history.versions[-1] if history else None
        if latest is not None and effective <= latest.effective_from:
            msg = (
                f"effective_from {effective.isoformat()} must be after that of version"
                f" {latest.version} ({latest.effective_from.isoformat()}): earlier appends"
                " were checked against it"
            )
            raise ConfigurationError(msg)
        data = ev.NoticePublishedData(
            version=definition.version,
            effective_from=effective,
            digest=digest,
            definition=definition,
        )
        try:
            position = self.record(
                NOTICE_STREAM, "NoticePublished", data, occurred_at=effective, actor=actor
            )
        except IntegrityError:
            msg = "another notice was published at the same time; nothing was published: retry"
            raise WriteConflict(msg) from None
        self._sync_registry()
        return position

    def record(
        self,
        stream: UUID,
        topic: str,
        data: BaseModel,
        *,
        occurred_at: datetime,
        actor: str,
        side: SideRows | None = None,
    ) -> int:
        """Store one event the ledger itself decides (notices, erasures); its position.

        Raises the library's IntegrityError when another writer took the stream's
        next version first.
        """
        (position,) = self.record_many(
            [Recorded(stream, topic, data, occurred_at, actor)], side=side
        )
        return position

    @_alone
    def record_many(
        self, entries: Sequence[Recorded], *, side: SideRows | None = None
    ) -> list[int]:
        """Store events the ledger itself decides in one transaction; their positions.

        Raises the library's IntegrityError when another writer took a stream's
        next version first (nothing was written then).
        """
        if not entries:
            return []
        now = self.clock.now()
        streams = list({e.stream for e in entries})
        versions = self.ledger_recorder.select_stream_versions(streams)
        stored = []
        for e in entries:
            versions[e.stream] = versions.get(e.stream, 0) + 1
            state = {
                "occurred_at": e.occurred_at.astimezone(UTC).isoformat(),
                "recorded_at": now.isoformat(),
                "actor": e.actor,
                "source": None,
                "idempotency": None,
                "data": e.data.model_dump(mode="json"),
            }
            stored.append(
                self.mapper.stored_from_state(e.stream, versions[e.stream], e.topic, state, now)
            )
        self._histories.forget(streams)
        ids = self.ledger_recorder.insert_events(stored, side=side or SideRows())
        self._committed()
        return [int(i) for i in ids]

    @_alone
    def registered_recipients(self) -> dict[str, ev.RecipientRegisteredData]:
        """Recipients registered by events (the latest registration of each id)."""
        self._sync_registry()
        return dict(self._registry.recipients)

    @property
    @_alone
    def notices(self) -> NoticeHistory:
        """Every published notice version."""
        self._sync_registry()
        return self._registry.notices

    def _sync_registry(self) -> None:
        self._registry.sync(self.ledger_recorder, self.mapper)

    # --- appends ------------------------------------------------------------------

    def append_batch(
        self, lines: Iterable[str | bytes | Mapping[str, Any]], *, first_line: int = 1
    ) -> AppendResult:
        """Append NDJSON lines in one transaction, or raise BatchRejected and write nothing.

        A failure of the store raises the ledger's ``WriteConflict`` (retries ran out,
        or the lock stayed held), ``StoreUnavailable`` or ``StoreError``; nothing of
        the call was written then either.
        """
        numbered = list(enumerate(lines, start=first_line))
        with _Call(self):
            now = self.clock.now()
            self.keyring.trim(_MAX_CACHED_KEYS)
            parsed, violations = parse_lines(numbered, now)
            digest_idempotency(parsed, self.index_digest)
            written = self._append_retrying(parsed, violations, now)
            return written.result(first_line, first_line + len(numbered) - 1)

    def append_group(
        self, requests: Sequence[Sequence[str | bytes | Mapping[str, Any]]]
    ) -> list[AppendResult | BatchRejected]:
        """Append many callers' requests in ONE transaction, each all or nothing on its own.

        The result of each request, in order, is what ``append_batch`` would have
        answered had the requests been appended one after another: a refused request
        gets its ``BatchRejected`` (lines numbered from 1 within it) and the others
        commit together. A failure of the store raises for the whole group, and
        nothing of it was written.
        """
        with _Call(self):
            now = self.clock.now()
            self.keyring.trim(_MAX_CACHED_KEYS)
            results: list[AppendResult | BatchRejected | None] = [None] * len(requests)
            live: list[GroupRequest] = []
            offset = 0
            for index, lines in enumerate(requests):
                numbered = list(enumerate(lines, start=offset + 1))
                parsed, violations = parse_lines(numbered, now)
                digest_idempotency(parsed, self.index_digest)
                request = GroupRequest(index, offset, offset + len(numbered), parsed)
                offset += len(numbered)
                if violations:
                    # Checked alone, so its answer lists every problem as append_batch's would.
                    results[index] = self._refusal(request, violations, now)
                else:
                    live.append(request)
            while live:
                parsed = [p for r in live for p in r.parsed]
                _reset(parsed)
                try:
                    written = self._append_retrying(parsed, [], now)
                except BatchRejected as e:
                    # The first refused request's problems depend only on the store and on
                    # the requests before it, as if appended one after another: refuse it
                    # and check the rest again without it.
                    earliest = min(v.line for v in e.violations)
                    first = next((r for r in live if r.holds(earliest)), live[0])
                    results[first.index] = first.rejected(e.violations)
                    live.remove(first)
                    continue
                for r in live:
                    results[r.index] = written.result(r.first + 1, r.last, renumber=r.first)
                break
            return [r if r is not None else AppendResult(0, 0, None) for r in results]

    def _refusal(
        self, request: GroupRequest, violations: list[Violation], now: datetime
    ) -> BatchRejected:
        try:
            self._append_parsed(request.parsed, violations, now)
        except BatchRejected as e:
            return request.rejected(e.violations)
        raise AssertionError  # pragma: no cover - violations always refuse

    def _append_retrying(
        self, parsed: list[ParsedLine], violations: list[Violation], now: datetime
    ) -> Written:
        for attempt in range(_RETRIES):
            try:
                return self._append_parsed(parsed, violations, now, read=attempt > 0)
            except IntegrityError:
                # A concurrent writer took a stream version, a subject reference or an
                # idempotency key first: re-read the store and check again.
                self.keyring.discard({p.subject_id for p in parsed if p.subject_id})
                _reset(parsed)
                if attempt == _RETRIES - 1:
                    msg = (
                        f"other writers changed the same subjects, references or idempotency"
                        f" keys {_RETRIES} times while this call was checked; nothing of it"
                        " was written: retry it"
                    )
                    raise WriteConflict(msg) from None
                time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 - jitter
        raise AssertionError  # pragma: no cover

    def _append_parsed(
        self,
        parsed: list[ParsedLine],
        violations: list[Any],
        now: datetime,
        *,
        read: bool = False,
    ) -> Written:
        """Check and write one call; ``read``: read the store even if all is known here.

        Without ``read``, a call about subjects this process wrote before skips the
        prefetch (``ledger.appending.known``); should its lines then break a rule,
        they are checked again after a full read before the call is refused.
        """
        known = None if read or violations else known_reads(parsed, self._histories, self.keyring)
        if known is None:
            found, histories = self._read_store(parsed)
        else:
            found, histories = known.found, known.histories
        subjects = found.subjects
        self.keyring.take(subjects.values(), found.keys)
        deriving = {subjects[p.line.subject] for p in parsed
                    if p.line.type == "ProfileDerived" and p.line.subject in subjects}  # fmt: skip
        state = BatchState(
            stored_digests=found.idempotency,
            subjects=subjects,
            notices=self._registry.notices,
            recipients=frozenset(self._registry.agreements.history),
            categories={sid: self.keyring.live_categories(sid) for sid in deriving},
        )
        problems, registered = check_batch(parsed, state, now)
        problems += self._regarding_problems(parsed, subjects, registered)
        if violations or problems:
            violations = sorted([*violations, *problems], key=_line_number)
            if known is not None:
                _reset(parsed)
                return self._append_parsed(parsed, [], now, read=True)
            raise BatchRejected(violations)
        fresh = [p for p in parsed if not p.duplicate]
        if not fresh:
            return Written(parsed, (), (), ())
        built = _Built()
        chunks = self._stored_chunks(fresh, registered, found, histories, now=now, built=built)
        ids, recipients = self._write(chunks, fresh, registered, found, built)
        self._committed()
        if recipients:
            self._sync_registry()
        return Written(parsed, tuple(map(int, ids)), tuple(built.owners), tuple(built.judged))

    def _write(
        self,
        chunks: Iterator[Chunk],
        fresh: list[ParsedLine],
        registered: list[tuple[str, UUID]],
        found: Prefetch,
        built: _Built,
    ) -> tuple[Sequence[int], bool]:
        """Store the call's chunks; fold what it wrote into the history cache.

        The fold may run while the store writes the last chunk and commits
        (``insert_chunks``' ``meanwhile``); should the write then fail, what was
        folded of the call's subjects is forgotten (read again next time), as are
        the keys made for them. Returns the positions, and whether a recipient line
        was among the lines (the registry is then read again).
        """
        at = found.versions
        owned: dict[str, tuple[UUID, int]] = {}
        recipients = False
        for p in fresh:
            if p.subject_id is not None:
                owned[p.line.subject] = (p.subject_id, at.get(p.subject_id, 0))
            if isinstance(p.line, _RECIPIENT_LINES):
                recipients = True
        folded: list[bool] = []

        def fold() -> None:
            self._histories.written(owned, built.written, [ref for ref, _ in registered])
            folded.append(True)

        try:
            ids = self.ledger_recorder.insert_chunks(chunks, meanwhile=fold)
        except BaseException:
            touched = {p.subject_id for p in fresh if p.subject_id}
            self.keyring.discard(touched)
            if folded:
                self._histories.forget(touched)
            raise
        self.keyring.committed([sid for _, sid in registered])
        if not folded:
            fold()
        return ids, recipients

    def _read_store(self, parsed: list[ParsedLine]) -> tuple[Prefetch, dict[UUID, SubjectHistory]]:
        """The call's look-ups in one round trip; the judged subjects' histories."""
        refs = sorted({p.line.subject for p in parsed if hasattr(p.line, "subject")})
        # A line of LATE_TYPES may have occurred before uses already judged: its
        # subject's stream is read too, so the judge can judge them again.
        judged = sorted(
            {
                p.line.subject
                for p in parsed
                if (p.line.type in JUDGED_TYPES or p.line.type in LATE_TYPES) and p.line.subject
            }
        )
        known, since = self._histories.since(judged)
        found = self.ledger_recorder.prefetch(
            refs,
            [p.key_digest for p in parsed if p.key_digest is not None],
            list(zip(judged, known, since, strict=True)),
            [NOTICE_STREAM, RECIPIENT_STREAM],
        )
        histories = self._histories.histories(judged, found.subjects, found.streams, self.mapper)
        self._registry.sync(self.ledger_recorder, self.mapper, heads=found.versions)
        return found, histories

    def _regarding_problems(
        self,
        parsed: list[ParsedLine],
        found: Mapping[str, UUID],
        registered: list[tuple[str, UUID]],
    ) -> list[Violation]:
        """A ``RecipientNotified`` must answer a change of its own subject (Art. 19).

        ``regarding`` is a log position: it must hold a rectification, erasure or
        restriction of the line's subject. One look-up, and only when such lines
        come; a change in the same call has no position yet, so its notification
        comes in a later call. An unknown subject is ``check_batch``'s to report.
        """
        lines = [p for p in parsed if isinstance(p.line, ev.RecipientNotifiedLine)]
        if not lines:
            return []
        subjects = {**found, **dict(registered)}
        at = {p.line.data.regarding for p in lines}
        stored = {n.id: n for n in self.ledger_recorder.select_at_positions(at)}
        problems = []
        for p in lines:
            assert isinstance(p.line, ev.RecipientNotifiedLine)  # noqa: S101 - filtered above
            subject_id = subjects.get(p.line.subject)
            if subject_id is None:
                continue
            position = p.line.data.regarding
            event = stored.get(position)
            if (
                event is None
                or as_uuid(event.originator_id) != subject_id
                or (event.topic not in CHANGE_TYPES)
            ):
                message = (
                    f"position {position} is not a rectification, erasure or restriction"
                    " of this subject"
                )
                problems.append(Violation(p.number, p.line.type, "data.regarding",
                                          Rule.NOT_A_CHANGE_OF_SUBJECT, message))  # fmt: skip
        return problems

    def _stored_chunks(
        self,
        fresh: list[ParsedLine],
        registered: list[tuple[str, UUID]],
        found: Prefetch,
        histories: dict[UUID, SubjectHistory],
        *,
        now: datetime,
        built: _Built,
    ) -> Iterator[tuple[list[StoredEvent], SideRows]]:
        """The call's events and side rows, ``_CHUNK_EVENTS`` events (and more) at a time.

        Made lazily, so that the store may write one chunk while the next is made
        (``PostgresLedgerRecorder.insert_chunks``); a chunk ends after a line and its
        findings. What the caller needs after the write (the states written, the
        findings, each event's line) goes into ``built``. The first chunk carries the
        subjects the call registers and the streams it was checked against; each
        carries the idempotency rows of its events and the data keys made for them.
        """
        new_ids = {sid for _, sid in registered}
        streams = {p.subject_id or RECIPIENT_STREAM for p in fresh}
        at = found.versions
        versions = {s: 0 if s in new_ids else at.get(s, 0) for s in streams}
        recorded_at = now.isoformat()
        registry = self._registry
        judge = Judge(histories, fresh, registry.notices, registry.agreements)
        pending = self.keyring.pending
        keys_sent = 0  # every key made since the last commit goes with this call
        side = SideRows(  # the first chunk's; later ones carry only their own rows
            subjects=[(ref, sid, now) for ref, sid in registered],
            expected=[(s, v) for s, v in registry.versions.items() if s not in streams],
        )
        stored: list[StoredEvent] = []
        idempotency: list[tuple[bytes, bytes, UUID, int]] = []
        for p in fresh:
            stream = p.subject_id or RECIPIENT_STREAM
            version = versions[stream] + 1
            last = self._line_events(p, stream, version, judge, now, recorded_at, stored, built)
            key = p.key_digest
            if key is not None and p.content_digest is not None:
                idempotency.append((key, p.content_digest, stream, version))
            versions[stream] = last
            if len(stored) >= _CHUNK_EVENTS:
                yield stored, _with_rows(side, idempotency, pending[keys_sent:])
                keys_sent, side = len(pending), SideRows()
                stored, idempotency = [], []
        if stored:
            yield stored, _with_rows(side, idempotency, pending[keys_sent:])

    def _line_events(  # noqa: PLR0917 - one line's share of _stored_chunks' loop
        self,
        p: ParsedLine,
        stream: UUID,
        version: int,
        judge: Judge,
        now: datetime,
        recorded_at: str,
        stored: list[StoredEvent],
        built: _Built,
    ) -> int:
        """Store one line as ``version`` of ``stream``, then its findings; the last version."""
        to_stored = self.mapper.stored_from_state
        line = p.line
        kind = line.type
        ref = getattr(line, "subject", None)
        data = _dumped(line.data)
        if isinstance(line, ev.ConsentGrantedLine) and line.data.notice_version is None:
            assert p.notice is not None  # noqa: S101 - set by check_batch
            data["notice_version"] = p.notice.version
        key = p.key_digest
        state = {
            "occurred_at": utc_text(p.occurred_at),
            "recorded_at": recorded_at,
            "actor": line.actor,
            "source": line.source,
            "idempotency": key.hex() if key else None,
            "data": data,
        }
        written, judged = built.written, built.judged
        stored.append(to_stored(stream, version, kind, state, now))
        written.append((ref, version, kind, state))
        last = version
        for finding in judge.observe(p, version, now):
            last += 1
            data = _dumped(finding_data(finding, kind, version))
            finding_state = _finding_state(state["occurred_at"], recorded_at, data)
            stored.append(to_stored(stream, last, FINDING, finding_state, now))
            written.append((ref, last, FINDING, finding_state))
            judged.append(Judged(p.number, ref, kind, version, finding))
        for use, finding in judge.revise(p, version):
            # A late fact: the uses it changes get their new findings after it.
            because = ev.FindingEvidence(version=version, type=kind)
            last += 1
            data = _dumped(finding_data(finding, use.type, use.position, because))
            occurred = utc_text(use.occurred_at)
            finding_state = _finding_state(occurred, recorded_at, data)
            stored.append(to_stored(stream, last, FINDING, finding_state, now))
            written.append((ref, last, FINDING, finding_state))
            judged.append(Judged(p.number, ref, use.type, use.position, finding,
                                 because=kind))  # fmt: skip
        built.owners += [p.number] * (last - version + 1)
        return last

    def append_stream(
        self, lines: Iterable[str | bytes], *, batch_size: int
    ) -> Iterator[AppendResult]:
        """Append in transactions of ``batch_size`` lines, yielding each committed result.

        A rejected batch raises BatchRejected with ``committed`` set to the number of
        lines committed before it, so a re-run with the same idempotency keys resumes;
        any other failure (a conflict, the store) raises the ledger's error with
        ``committed`` set the same way.
        """
        iterator = iter(lines)
        first = 1
        with self.one_call():
            while chunk := list(islice(iterator, batch_size)):
                try:
                    yield self.append_batch(chunk, first_line=first)
                except BatchRejected as e:
                    raise BatchRejected(list(e.violations), committed=first - 1) from None
                except LedgerError as e:
                    e.committed = first - 1
                    raise
                first += len(chunk)

    # --- reading ------------------------------------------------------------------

    def subject_id(self, ref: str) -> UUID:
        """The internal stream id of a subject reference."""
        if invalid_character(ref, free_text=False):
            # No such reference can be registered (nor sent to PostgreSQL, for a NUL).
            msg = "no subject is registered under this reference: it holds a control character"
            raise SubjectNotFound(msg)
        found = self.ledger_recorder.select_subjects([ref]).get(ref)
        if found is None:
            if reference_holds_identity_code(ref):
                shown = "(not shown: it holds a personal identity code)"
            elif len(ref) > _SHOWN_REFERENCE:
                shown = f"(not shown: {len(ref)} characters)"
            else:
                shown = repr(ref)
            msg = f"no subject is registered under reference {shown}"
            raise SubjectNotFound(msg)
        return found

    @_alone
    def stream(self, subject_id: UUID) -> list[ev.LedgerEvent]:
        """Every event of one stream in order, values opened where their key exists."""
        if subject_id not in (NOTICE_STREAM, RECIPIENT_STREAM):
            self.keyring.load([subject_id])
        rows = self.ledger_recorder.select_events(subject_id)
        return [self.mapper.to_domain_event(r) for r in rows]

    def positions(self, subject_id: UUID) -> dict[int, int]:
        """Log position of each version of a stream."""
        return self.ledger_recorder.select_positions(subject_id)

    def leaf_hashes(self, positions: Collection[int]) -> dict[int, str]:
        """RFC 9162 leaf hashes (hex) of the events at these positions (one query)."""
        if not positions:
            return {}
        return {
            n.id: stored_leaf(n).hex() for n in self.ledger_recorder.select_at_positions(positions)
        }

    @_alone
    def open_fields(
        self, stream_id: UUID, version: int, category: str, sealed: str
    ) -> dict[str, Any] | None:
        """Open one sealed fields object; None when its key was destroyed."""
        self.keyring.load([stream_id])
        return self.mapper.open_fields(stream_id, version, category, sealed)

    def close(self) -> None:
        """Tell the listener (a pending seal happens now), then release the connections."""
        try:
            self.listener.closing()
        finally:
            try:
                self.ledger_recorder.release()
            finally:
                self.factory.close()


def _with_rows(
    side: SideRows, idempotency: list[tuple[bytes, bytes, UUID, int]], keys: Sequence[KeyRow]
) -> SideRows:
    """``side`` with a chunk's idempotency rows and keys (``dataclasses.replace`` took 10 us)."""
    return SideRows(subjects=side.subjects, idempotency=idempotency, keys=keys,
                    shredding=side.shredding, expected=side.expected)  # fmt: skip


_RECIPIENT_LINES = (ev.RecipientRegisteredLine, ev.RecipientEndedLine)
"""Lines that change the recipients' stream: the registry is read again after them."""


@dataclass(slots=True)
class _Built:
    """What ``Ledger._stored_chunks`` made besides the chunks, for after the write."""

    written: list[WrittenState] = field(default_factory=list)
    """What each stored event encodes, for the history cache."""
    judged: list[Judged] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    """The line number of each stored event."""


def _line_number(violation: Violation) -> int:
    return violation.line


def _finding_state(occurred_at: str, recorded_at: str, data: dict[str, Any]) -> dict[str, Any]:
    """A ``FindingRecorded``'s state: the ledger's, keyed as a line's state is."""
    return {"occurred_at": occurred_at, "recorded_at": recorded_at, "actor": "ledger",
            "source": None, "idempotency": None, "data": data}  # fmt: skip


def _dumped(data: BaseModel) -> dict[str, Any]:
    """``data.model_dump(mode="json")``: the model's serializer called as ``model_dump`` calls it.

    Without ``model_dump``'s frame and its keyword arguments (every one at its default).
    """
    dumped: dict[str, Any] = data.__pydantic_serializer__.to_python(data, mode="json")
    return dumped


def _reset(parsed: list[ParsedLine]) -> None:
    """Forget what a check derived of the lines, before they are checked again."""
    for p in parsed:
        p.duplicate, p.subject_id, p.notice = False, None, None


class _Call:
    """The frame of one append call: the ledger alone, no cyclic GC, the store's errors told.

    The ledger's lock is held from the call's start to its commit (``Ledger``: what it
    holds in memory is used by one call at a time). A batch allocates many
    short-lived, acyclic objects (models, dicts, bytes); the cyclic collector running
    over them costs more than the rest of validation. Reference counting still frees
    them; collection resumes after. The library's persistence errors become the
    ledger's, saying what is safe. A class rather than three generator-based context
    managers: a one-line call enters it once, cheaply.
    """

    __slots__ = ("_enabled", "_lock", "_store")

    def __init__(self, ledger: Ledger) -> None:
        self._store = ledger.store
        self._lock = ledger._lock
        self._enabled = False

    def __enter__(self) -> None:
        self._lock.acquire()
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 _tb: object) -> None:  # fmt: skip
        try:
            if self._enabled:
                gc.enable()
        finally:
            self._lock.release()
        if isinstance(error, PersistenceError):
            failure = store_failure(self._store, error)
            if isinstance(failure, StoreUnavailable):
                failure = StoreUnavailable(
                    f"{failure}; had it been lost while committing, that transaction may"
                    " have committed: lines with idempotency keys can be sent again safely"
                )
            raise failure from error


def file_digest(content: bytes) -> str:
    """The SHA-256 of a published definition file, as recorded with the notice."""
    return hashlib.sha256(content).hexdigest()
