"""The PostgreSQL recorder: the library's events table plus the ledger's side tables."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import chain
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError
from eventsourcing.persistence import Notification as _Notification
from eventsourcing.persistence import StoredEvent as _StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.persistence import postgres_functions as functions
from ledger.persistence.recorders import (
    Chunk,
    JudgedRead,
    KeyRow,
    Prefetch,
    Shredding,
    SideRows,
)
from ledger.persistence.store import LOCK_NOT_AVAILABLE, sqlstate

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification, StoredEvent
    from eventsourcing.postgres import PostgresDatastore
    from psycopg import Connection, Cursor
    from psycopg.rows import DictRow


_VALUES_AT_MOST = 48
"""Values a call may hold to be sent one parameter per value (``_append_call``)."""
_SHAPES_KEPT = 64
"""Statements of small calls kept, one per shape (psycopg prepares each on its own)."""
_KEPT_SECONDS = 60.0
"""How long the writer keeps one pooled connection before handing it back (``_Kept``)."""


class _Kept:
    """A pooled connection the writer keeps between one-chunk calls, with its cursor.

    Checked out through the library's ``get_connection``, whose context stays open:
    a failure is thrown into it, so it becomes the library's error and the
    connection goes back to the pool (a broken one is discarded there) exactly as
    on the pool's path. Kept at most ``_KEPT_SECONDS``, so that the pool's own
    checks and lifetimes still apply to it.
    """

    __slots__ = ("conn", "curs", "manager", "since")

    def __init__(self, manager: AbstractContextManager[Connection[Any]]) -> None:
        self.manager = manager
        self.conn = manager.__enter__()
        try:
            self.curs = self.conn.cursor(row_factory=tuple_row)
        except BaseException as e:
            self.failed(e)
            raise
        self.since = time.monotonic()

    def failed(self, error: BaseException) -> None:
        """Hand the connection back with ``error``; raises the library's error for it."""
        self.manager.__exit__(type(error), error, error.__traceback__)

    def release(self) -> None:
        """Hand the connection back to the pool."""
        try:
            self.curs.close()
        finally:
            self.manager.__exit__(None, None, None)


class LockWaitExceeded(PersistenceError):
    """The events table's lock was not granted within the lock timeout (not retried)."""


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    """PostgreSQL store: the library's events table plus the ledger's side tables."""

    datastore: PostgresDatastore

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "ledger_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements += [
            SQL(s).format(schema=schema)
            for s in (
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_subjects (ref text PRIMARY KEY,"
                " subject_id uuid NOT NULL UNIQUE, registered_at timestamptz NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_idempotency ("
                " key_digest bytea PRIMARY KEY, content_digest bytea NOT NULL,"
                " originator_id uuid NOT NULL, originator_version bigint NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_keys (subject_id uuid NOT NULL,"
                " category text NOT NULL, key_version integer NOT NULL, wrapped bytea,"
                " master_key_id text NOT NULL, created_at timestamptz NOT NULL,"
                " destroyed_at timestamptz,"
                " PRIMARY KEY (subject_id, category, key_version))",
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_meta (name text PRIMARY KEY,"
                " value bytea NOT NULL)",
            )
        ]
        self.sql_create_statements += functions.create_statements(
            self.datastore.schema, self.events_table_name, self.channel_name
        )
        self._schema = schema
        self._call_prefetch = functions.call_prefetch(self.datastore.schema)
        self._call_append = functions.call_append(self.datastore.schema)
        # Each shape's call rendered once (psycopg would render a Composed every time).
        self._calls: dict[tuple[int, ...] | None, bytes] = {}
        self._prefetch_call: bytes | None = None
        # A pool checkout and a cursor cost about 30 us of a one-line call's CPU.
        self._kept: _Kept | None = None
        self._kept_lock = threading.Lock()
        # One statement with four arrays: psycopg dumps arrays of primitives in C,
        # far faster than the library's array of composite values.
        self._insert_arrays = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(schema=schema, table=Identifier(self.events_table_name))

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        side: SideRows = kwargs.get("side") or SideRows()
        if side.subjects:
            columns = [list(col) for col in zip(*side.subjects, strict=True)]
            self._insert_arrays_into(
                curs, "ledger_subjects", ("text", "uuid", "timestamptz"), columns
            )
        if side.idempotency:
            columns = [list(col) for col in zip(*side.idempotency, strict=True)]
            self._insert_arrays_into(
                curs, "ledger_idempotency", ("bytea", "bytea", "uuid", "bigint"), columns
            )
        if side.keys:
            keys = side.keys
            columns = [
                [k.subject_id for k in keys], [k.category for k in keys],
                [k.key_version for k in keys], [k.wrapped for k in keys],
                [k.master_key_id for k in keys], [k.created_at for k in keys],
            ]  # fmt: skip
            types = ("uuid", "text", "integer", "bytea", "text", "timestamptz")
            # destroyed_at starts empty
            self._insert_arrays_into(curs, "ledger_keys", types, columns, tail=", NULL")
        if side.shredding is not None:
            self._shred(curs, side.shredding)

    def _insert_arrays_into(
        self,
        curs: Cursor[DictRow],
        table: str,
        types: tuple[str, ...],
        columns: list[list[Any]],
        *,
        tail: str = "",
    ) -> None:
        """One INSERT of many rows: one binary array per column, unnested."""
        arrays = ", ".join(f"%b::{t}[]" for t in types)
        statement = SQL(
            "INSERT INTO {schema}.{table} SELECT *" + tail + " FROM unnest(" + arrays + ")"
        )
        curs.execute(statement.format(schema=self._schema, table=Identifier(table)), columns)

    def _shred(self, curs: Cursor[DictRow], shred: Shredding) -> None:
        curs.execute(
            SQL(
                "UPDATE {schema}.ledger_keys SET wrapped = NULL, destroyed_at = %s"
                " WHERE subject_id = %s AND category = ANY(%s) AND wrapped IS NOT NULL"
            ).format(schema=self._schema),
            (shred.at, shred.subject_id, list(shred.categories)),
        )
        if shred.remove_reference:
            for table in ("ledger_subjects", "ledger_idempotency"):
                column = "subject_id" if table == "ledger_subjects" else "originator_id"
                curs.execute(
                    SQL("DELETE FROM {schema}.{table} WHERE {column} = %s").format(
                        schema=self._schema, table=Identifier(table), column=Identifier(column)
                    ),
                    (shred.subject_id,),
                )

    def select_all_keys(self) -> list[KeyRow]:
        rows = self._select("SELECT * FROM {schema}.ledger_keys WHERE wrapped IS NOT NULL", [])
        return [
            KeyRow(r["subject_id"], r["category"], r["key_version"], bytes(r["wrapped"]),
                   r["master_key_id"], r["created_at"])
            for r in rows
        ]  # fmt: skip

    def rewrap(self, rows: Sequence[KeyRow], meta: dict[str, bytes]) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.executemany(
                SQL(
                    "UPDATE {schema}.ledger_keys SET wrapped = %s, master_key_id = %s"
                    " WHERE subject_id = %s AND category = %s AND key_version = %s"
                ).format(schema=self._schema),
                [(k.wrapped, k.master_key_id, k.subject_id, k.category, k.key_version)
                 for k in rows],
            )  # fmt: skip
            curs.executemany(
                SQL("UPDATE {schema}.ledger_meta SET value = %s WHERE name = %s").format(
                    schema=self._schema
                ),
                [(v, n) for n, v in meta.items()],
            )

    def checkpoint_wal(self) -> None:
        """Nothing to fold on PostgreSQL (dead tuples go with VACUUM)."""

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_arrays,
            [
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ],
            prepare=True,
        )

    def _select(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """One look-up, planned for its actual parameters.

        Never a server-side prepared statement: a generic plan is made without the
        array's length and the table's current size, and was seen to pick hash
        joins over full scans. Every look-up below is an equality on a primary
        key or unique column (``= ANY`` of an array), or a per-value probe of an
        index (``LATERAL`` with ``OFFSET 0``, which the planner cannot flatten
        into a hash join), so the plan is an index probe whatever the statistics say.
        """
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(sql).format(schema=self._schema, table=Identifier(self.events_table_name)),
                params,
                prepare=False,
            )
            return list(curs.fetchall())

    def prefetch(
        self,
        refs: Sequence[str],
        digests: Sequence[bytes],
        judged: Sequence[JudgedRead],
        streams: Sequence[UUID],
    ) -> Prefetch:
        """Every look-up of a call in one statement (``ledger_prefetch_v3``).

        One round trip, no transaction of its own to open and close: the function
        runs as one statement in autocommit mode, so all five look-ups see one
        snapshot, and its ``SET enable_seqscan = off`` pins every plan to an index
        probe.
        """
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            if self._prefetch_call is None:
                self._prefetch_call = self._call_prefetch.as_bytes(conn)
            curs.execute(
                self._prefetch_call,
                [
                    list(refs) or None,
                    list(digests) or None,
                    [ref for ref, _, _ in judged] or None,
                    [known for _, known, _ in judged] or None,
                    [since for _, _, since in judged] or None,
                    list(streams) or None,
                ],
                prepare=True,
            )
            row = curs.fetchone()
        assert row is not None  # noqa: S101 - aggregates always return one row
        col = _columns(row)
        keys = zip(
            col("k_subject"), col("k_category"), col("k_version"), col("k_wrapped"),
            col("k_master"), col("k_created"), col("k_destroyed"), strict=True,
        )  # fmt: skip
        events = zip(col("e_id"), col("e_version"), col("e_topic"), col("e_state"), strict=True)
        return Prefetch(
            subjects=dict(zip(col("s_ref"), col("s_id"), strict=True)),
            idempotency=dict(zip(col("i_key"), col("i_content"), strict=True)),
            versions=dict(zip(col("v_id"), col("v_version"), strict=True)),
            keys=[KeyRow(*k) for k in keys],
            streams=[
                _StoredEvent(originator_id=i, originator_version=v, topic=t, state=s)
                for i, v, t, s in events
            ],
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One call's events and side rows in one statement (``ledger_append_v5``).

        An erasure's shredding (rare, and an UPDATE and DELETEs) takes the
        library's pipelined transaction with the ``_insert_events`` hook instead.
        """
        side: SideRows = kwargs.get("side") or SideRows()
        if side.shredding is not None:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        columns = _append_columns(stored_events, side)
        try:
            if self._kept_lock.acquire(blocking=False):
                try:
                    return self._append_kept(columns)
                finally:
                    self._kept_lock.release()
            with (  # another thread writes on the kept connection: the pool's path
                self.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as curs,
            ):
                return self._append_on(conn, curs, columns)
        except OperationalError as e:
            _raise_if_lock_wait(e)
            raise

    def _append_on(
        self, conn: Connection[Any], curs: Cursor[Any], columns: list[list[Any]]
    ) -> list[int]:
        """The append function's call for ``columns`` on ``curs``: the events' positions."""
        statement, values = self._append_call(columns, conn)
        curs.execute(statement, values, prepare=True)
        return [r[0] for r in curs.fetchall()]

    def _append_kept(self, columns: list[list[Any]]) -> list[int]:
        """The append call on the kept connection (checked out now if none is kept)."""
        kept = self._kept
        if kept is not None and time.monotonic() - kept.since > _KEPT_SECONDS:
            self._kept = None
            kept.release()
            kept = None
        if kept is None:
            kept = self._kept = _Kept(self.datastore.get_connection())
        try:
            return self._append_on(kept.conn, kept.curs, columns)
        except BaseException as e:
            self._kept = None
            kept.failed(e)
            raise

    def release(self) -> None:
        """Hand the kept connection back to the pool (the ledger closes)."""
        with self._kept_lock:
            kept, self._kept = self._kept, None
        if kept is not None:
            kept.release()

    def insert_chunks(
        self, chunks: Iterable[Chunk], *, meanwhile: Callable[[], None] | None = None
    ) -> Sequence[int]:
        """A call's chunks in one transaction, each sent as soon as the caller made it.

        One chunk (a service's call) is one statement in autocommit, one round trip
        (``insert_events``). More are one ``ledger_append_v5`` call each, pipelined in
        one transaction (BEGIN, the calls, COMMIT): the server inserts a chunk while
        the caller seals and encodes the next, and the client waits only for the last
        chunk and the commit, while ``meanwhile`` runs. The first call takes the lock
        and checks the streams; the later ones take the lock they already hold. A
        failure in any chunk rolls back the whole call.
        """
        iterator = iter(chunks)
        first = next(iterator, None)
        if first is None:
            return []
        second = next(iterator, None)
        if second is None:
            return self.insert_events(first[0], side=first[1]) or []
        ran: list[bool] = []

        def once() -> None:
            if meanwhile is not None and not ran:
                ran.append(True)
                meanwhile()

        ids: list[int] = self._insert_pipelined([first, second], iterator, once)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_pipelined(
        self, made: list[Chunk], rest: Iterator[Chunk], meanwhile: Callable[[], None]
    ) -> list[int]:
        """``insert_chunks`` of two chunks or more; ``made``: those made so far.

        A retry (a lost connection) sends again what was made, then goes on taking;
        ``meanwhile`` (called once at most by ``insert_chunks``) runs when an
        attempt has sent every chunk.
        """

        def each() -> Iterator[Chunk]:
            yield from list(made)
            for chunk in rest:
                made.append(chunk)
                yield chunk

        try:
            with self.datastore.get_connection() as conn:
                cursors = []
                with conn.pipeline(), conn.transaction():
                    for events, side in each():
                        columns = _append_columns(events, side)
                        statement, values = self._append_call(columns, conn)
                        curs = conn.cursor(row_factory=tuple_row)
                        curs.execute(statement, values, prepare=True)
                        cursors.append(curs)
                    meanwhile()
                return [int(r[0]) for curs in cursors for r in curs.fetchall()]
        except OperationalError as e:
            _raise_if_lock_wait(e)
            raise

    def _append_call(
        self, columns: list[list[Any]], conn: Connection[Any]
    ) -> tuple[bytes, list[Any]]:
        """The append function's call for these columns, and its parameters.

        A small call (a service's one line, with its findings) sends each value as
        a parameter of its own (``call_append_values``, one statement per shape of
        call, kept); a larger one sends one binary array per column. An empty
        column goes as NULL (unnest(NULL) is no rows). Each statement is rendered
        once, for the connection's encoding.
        """
        lengths = tuple(map(len, columns))
        shape: tuple[int, ...] | None = lengths
        if sum(lengths) > _VALUES_AT_MOST:
            shape = None
            values = [c or None for c in columns]
        else:
            values = list(chain.from_iterable(columns))
        statement = self._calls.get(shape)
        if statement is None:
            if len(self._calls) >= _SHAPES_KEPT:
                self._calls.clear()
            composed = (
                self._call_append
                if shape is None
                else functions.call_append_values(self.datastore.schema, shape)
            )
            statement = self._calls[shape] = composed.as_bytes(conn)
        return statement, values

    @staticmethod
    def _stored(r: Any) -> StoredEvent:
        return _StoredEvent(
            originator_id=r["originator_id"], originator_version=r["originator_version"],
            topic=r["topic"], state=bytes(r["state"]),
        )  # fmt: skip

    @staticmethod
    def _key_row(r: Any) -> KeyRow:
        return KeyRow(r["subject_id"], r["category"], r["key_version"],
                      None if r["wrapped"] is None else bytes(r["wrapped"]),
                      r["master_key_id"], r["created_at"], r["destroyed_at"])  # fmt: skip

    def select_subjects(self, refs: Iterable[str]) -> dict[str, UUID]:
        sql = (
            "SELECT s.ref, s.subject_id FROM {schema}.ledger_subjects s"
            " WHERE s.ref = ANY(%b::text[])"
        )
        return {r["ref"]: r["subject_id"] for r in self._select(sql, [list(refs)])}

    def select_streams(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        sql = (
            "SELECT e.originator_id, e.originator_version, e.topic, e.state"
            " FROM unnest(%b::uuid[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM"
            " {schema}.{table} x WHERE x.originator_id = k.id OFFSET 0) e"
            " ORDER BY e.originator_id, e.originator_version"
        )
        return [self._stored(r) for r in self._select(sql, [list(ids)])]

    def select_refs(self, subject_ids: Iterable[UUID]) -> dict[UUID, str]:
        sql = (
            "SELECT s.ref, s.subject_id FROM {schema}.ledger_subjects s"
            " WHERE s.subject_id = ANY(%b::uuid[])"
        )
        return {r["subject_id"]: r["ref"] for r in self._select(sql, [list(subject_ids)])}

    def select_idempotency(self, digests: Iterable[bytes]) -> dict[bytes, bytes]:
        sql = (
            "SELECT i.key_digest, i.content_digest FROM {schema}.ledger_idempotency i"
            " WHERE i.key_digest = ANY(%b::bytea[])"
        )
        rows = self._select(sql, [list(digests)])
        return {bytes(r["key_digest"]): bytes(r["content_digest"]) for r in rows}

    def select_stream_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        # One backward index probe per stream: a correlated MAX over the stream index.
        sql = (
            "SELECT k.id, (SELECT MAX(e.originator_version) FROM {schema}.{table} e"
            " WHERE e.originator_id = k.id) AS v FROM unnest(%b::uuid[]) AS k(id)"
        )
        rows = self._select(sql, [list(ids)])
        return {r["id"]: r["v"] for r in rows if r["v"] is not None}

    def select_keys(self, subject_ids: Iterable[UUID]) -> list[KeyRow]:
        sql = (
            "SELECT s.* FROM unnest(%b::uuid[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM"
            " {schema}.ledger_keys x WHERE x.subject_id = k.id OFFSET 0) s"
        )
        return [self._key_row(r) for r in self._select(sql, [list(subject_ids)])]

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        sql = (
            "SELECT originator_version, notification_id FROM {schema}.{table}"
            " WHERE originator_id = %s"
        )
        rows = self._select(sql, [originator_id])
        return {r["originator_version"]: r["notification_id"] for r in rows}

    def select_at_positions(self, positions: Iterable[int]) -> list[Notification]:
        sql = "SELECT e.* FROM {schema}.{table} e WHERE e.notification_id = ANY(%b::bigint[])"
        return [
            _Notification(
                id=r["notification_id"], originator_id=r["originator_id"],
                originator_version=r["originator_version"], topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in self._select(sql, [list(positions)])
        ]  # fmt: skip

    def get_meta(self, name: str) -> bytes | None:
        rows = self._select("SELECT value FROM {schema}.ledger_meta WHERE name = %s", [name])
        return bytes(rows[0]["value"]) if rows else None

    def put_meta(self, values: dict[str, bytes]) -> None:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            curs.executemany(
                SQL("INSERT INTO {schema}.ledger_meta VALUES (%s, %s)").format(schema=self._schema),
                list(values.items()),
            )

    def has_ledger_tables(self) -> bool:
        """Whether ``ledger init`` made this store; installs the append functions if missing.

        A store made before the functions existed gets them on first open, so an
        upgrade needs no separate migration step.
        """
        schema = self.datastore.schema
        rows = self._select(
            "SELECT to_regclass(%s) IS NOT NULL AS present,"
            " to_regproc(%s) IS NOT NULL AND to_regproc(%s) IS NOT NULL AS functions",
            [f'"{schema}".ledger_meta', f'"{schema}".{functions.PREFETCH}',
             f'"{schema}".{functions.APPEND}'],
        )  # fmt: skip
        present = bool(rows[0]["present"])
        if present and not rows[0]["functions"]:
            statements = functions.create_statements(
                schema, self.events_table_name, self.channel_name
            )
            with self.datastore.transaction(commit=True) as curs:
                for statement in statements:
                    curs.execute(statement, prepare=False)
        return present


def _columns(row: Any) -> Any:
    """A reader of one aggregated array column; an empty aggregate (NULL) reads as []."""

    def column(name: str) -> list[Any]:
        return row[name] or []

    return column


def _arrays(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (``width`` empty lists when there are none)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(col) for col in zip(*rows, strict=True)]


def _raise_if_lock_wait(error: OperationalError) -> None:
    """``LockWaitExceeded`` for the lock timeout, which the retry decorator must not retry.

    The operator's LEDGER_LOCK_TIMEOUT was waited once: not ten times over.
    """
    if sqlstate(error) == LOCK_NOT_AVAILABLE:
        raise LockWaitExceeded(str(error)) from error


def _append_columns(stored_events: Sequence[StoredEvent], side: SideRows) -> list[list[Any]]:
    """The append function's columns (``postgres_functions.APPEND_TYPES``) for these rows."""
    keys = side.keys
    return [
        *_arrays(side.subjects, 3),
        *_arrays(side.idempotency, 4),
        [k.subject_id for k in keys], [k.category for k in keys],
        [k.key_version for k in keys], [k.wrapped for k in keys],
        [k.master_key_id for k in keys], [k.created_at for k in keys],
        [e.originator_id for e in stored_events],
        [e.originator_version for e in stored_events],
        [e.topic for e in stored_events],
        [e.state for e in stored_events],
        [stream for stream, _ in side.expected],
        [version for _, version in side.expected],
    ]  # fmt: skip
