"""Two server-side functions: an append's reads in one statement, its writes in another.

A one-line append used to cost two transactions of several statements each
(BEGIN, a setting, five look-ups, COMMIT; BEGIN, LOCK, NOTIFY, four inserts,
COMMIT). Sent as psycopg pipelines they were one round trip apiece, but the
client's per-statement work was most of a one-line call. Here each side is one
statement in autocommit mode: its own transaction, one round trip, one message.

``ledger_prefetch_v3``
    every look-up of a call: subjects by reference, idempotency digests, the last
    version of each stream, the subjects' data keys and the judged subjects' events past
    the version the caller already read (v3; v2 read the whole stream each time:
    ``ledger.appending.histories``), returned as one row of arrays (psycopg parses
    binary arrays in C). Declared with ``SET enable_seqscan = off``: every look-up is an
    equality on a primary or unique key, so its plan is an index probe whatever the
    statistics say (an ``ANALYZE`` of an empty table before a bulk load makes the
    planner expect a one-page table and scan it), and ``SET jit = off``: without
    statistics (autovacuum off, or not yet run) the planner's cost estimate of a large
    log passes ``jit_above_cost`` and every call paid for compiling (15 ms a call at 1M
    events, against 1 ms at 100k; 1.5 ms with JIT off).
``ledger_append_v5``
    one call's rows: takes the events table's EXCLUSIVE lock (so positions
    commit in the order they are issued, as the library's recorder does), checks
    that each stream the call was judged against but does not write (the notice
    and recipient streams) is still at the version the caller read (v4: else
    SQLSTATE 23000, an integrity error the caller retries after reading again),
    sends the library's NOTIFY, inserts subjects, idempotency digests, data keys
    and the events, and returns the events' positions. A uniqueness violation in
    any of them aborts the whole statement, so nothing of the call is stored: a
    stream version, a reference or an idempotency key another writer took since
    the caller read (or since what it remembers of earlier calls) is refused
    there, which is what lets a call skip the prefetch
    (``ledger.appending.known``). Declared ``SET enable_seqscan = off`` too (v4):
    the check's look-ups are index probes whatever the statistics say.
    JIT off too (v2: v1 lacked it). v5 runs no statement for an empty
    column (sent as NULL): a one-line call about a known subject registers no
    subject and makes no key: skipping its two empty INSERTs took the function's
    server time from 193 to 176 us on a slow machine (``pg_stat_user_functions``
    over about 19,000 pgbench calls of each).
    The wait for the lock is bounded by the
    session's ``lock_timeout`` (``LEDGER_LOCK_TIMEOUT``, set on every connection:
    ``LedgerPostgresFactory``); v2 set ``SET LOCAL lock_timeout`` to what the store
    had when the function was made, 0 (no bound) unless configured at ``init``.

The names carry a version: a later change to a body gets a new name, so an old
process never calls a body it does not expect. ``CREATE OR REPLACE`` makes
installing them idempotent; stores made before they existed get them when next
opened (``PostgresLedgerRecorder.has_ledger_tables``).
"""

from __future__ import annotations

from psycopg.sql import SQL, Composed, Identifier

PREFETCH = "ledger_prefetch_v3"
APPEND = "ledger_append_v5"

_PREFETCH_BODY = """
CREATE OR REPLACE FUNCTION {schema}.{prefetch}(
    refs text[], digests bytea[], judged text[], judged_ids uuid[], judged_since bigint[],
    streams uuid[])
RETURNS TABLE (
    s_ref text[], s_id uuid[],
    i_key bytea[], i_content bytea[],
    v_id uuid[], v_version bigint[],
    k_subject uuid[], k_category text[], k_version integer[], k_wrapped bytea[],
    k_master text[], k_created timestamptz[], k_destroyed timestamptz[],
    e_id uuid[], e_version bigint[], e_topic text[], e_state bytea[])
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $body$
BEGIN
RETURN QUERY
WITH s AS MATERIALIZED (
    SELECT ref, subject_id FROM {schema}.ledger_subjects WHERE ref = ANY(refs)
)
SELECT * FROM
    (SELECT array_agg(ref), array_agg(subject_id) FROM s) AS a_subjects,
    (SELECT array_agg(key_digest), array_agg(content_digest)
       FROM {schema}.ledger_idempotency WHERE key_digest = ANY(digests)) AS a_digests,
    (SELECT array_agg(k.id), array_agg(k.v) FROM (
        SELECT x.id, (SELECT MAX(e.originator_version) FROM {schema}.{table} e
                       WHERE e.originator_id = x.id) AS v
          FROM (SELECT subject_id FROM s UNION ALL SELECT unnest(streams)) AS x(id)
     ) AS k WHERE k.v IS NOT NULL) AS a_versions,
    (SELECT array_agg(y.subject_id), array_agg(y.category), array_agg(y.key_version),
            array_agg(y.wrapped), array_agg(y.master_key_id), array_agg(y.created_at),
            array_agg(y.destroyed_at)
       FROM s JOIN {schema}.ledger_keys y ON y.subject_id = s.subject_id) AS a_keys,
    (SELECT array_agg(e.originator_id ORDER BY e.originator_id, e.originator_version),
            array_agg(e.originator_version ORDER BY e.originator_id, e.originator_version),
            array_agg(e.topic ORDER BY e.originator_id, e.originator_version),
            array_agg(e.state ORDER BY e.originator_id, e.originator_version)
       FROM s JOIN unnest(judged, judged_ids, judged_since) AS j(ref, id, since)
              ON j.ref = s.ref
         JOIN {schema}.{table} e ON e.originator_id = s.subject_id
          AND e.originator_version > CASE WHEN j.id = s.subject_id THEN j.since ELSE 0 END
    ) AS a_judged;
END
$body$
"""

_APPEND_BODY = """
CREATE OR REPLACE FUNCTION {schema}.{append}(
    s_ref text[], s_id uuid[], s_at timestamptz[],
    i_key bytea[], i_content bytea[], i_id uuid[], i_version bigint[],
    k_subject uuid[], k_category text[], k_version integer[], k_wrapped bytea[],
    k_master text[], k_created timestamptz[],
    e_id uuid[], e_version bigint[], e_topic text[], e_state bytea[],
    x_id uuid[], x_version bigint[])
RETURNS SETOF bigint
LANGUAGE plpgsql
SET enable_seqscan = off
SET jit = off
AS $body$
DECLARE
    moved uuid;
BEGIN
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    IF x_id IS NOT NULL THEN
        SELECT x.id INTO moved FROM unnest(x_id, x_version) AS x(id, v)
         WHERE COALESCE((SELECT MAX(e.originator_version) FROM {schema}.{table} e
                          WHERE e.originator_id = x.id), 0) <> x.v
         LIMIT 1;
        IF moved IS NOT NULL THEN
            RAISE EXCEPTION 'stream % changed since this call read it', moved
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    NOTIFY {channel};
    IF s_ref IS NOT NULL THEN
        INSERT INTO {schema}.ledger_subjects (ref, subject_id, registered_at)
            SELECT * FROM unnest(s_ref, s_id, s_at);
    END IF;
    IF i_key IS NOT NULL THEN
        INSERT INTO {schema}.ledger_idempotency
            (key_digest, content_digest, originator_id, originator_version)
            SELECT * FROM unnest(i_key, i_content, i_id, i_version);
    END IF;
    IF k_subject IS NOT NULL THEN
        INSERT INTO {schema}.ledger_keys
            (subject_id, category, key_version, wrapped, master_key_id, created_at)
            SELECT * FROM unnest(k_subject, k_category, k_version, k_wrapped, k_master,
                                 k_created);
    END IF;
    RETURN QUERY
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(e_id, e_version, e_topic, e_state)
        RETURNING notification_id;
END
$body$
"""


def create_statements(schema: str, table: str, channel: str) -> list[Composed]:
    """The statements that install (or replace) both functions in a schema."""
    names = {
        "schema": Identifier(schema),
        "table": Identifier(table),
        "prefetch": Identifier(PREFETCH),
        "append": Identifier(APPEND),
        "channel": Identifier(channel),
    }
    return [SQL(_PREFETCH_BODY).format(**names), SQL(_APPEND_BODY).format(**names)]


def call_prefetch(schema: str) -> Composed:
    """``SELECT`` of the prefetch function, with typed binary array parameters."""
    return SQL(
        "SELECT * FROM {schema}.{name}(%b::text[], %b::bytea[], %b::text[], %b::uuid[],"
        " %b::bigint[], %b::uuid[])"
    ).format(schema=Identifier(schema), name=Identifier(PREFETCH))


APPEND_TYPES = (
    "text", "uuid", "timestamptz",
    "bytea", "bytea", "uuid", "bigint",
    "uuid", "text", "integer", "bytea", "text", "timestamptz",
    "uuid", "bigint", "text", "bytea",
    "uuid", "bigint",
)  # fmt: skip
"""The element type of each of the append function's array parameters, in order."""


def call_append(schema: str) -> Composed:
    """``SELECT`` of the append function, with typed binary array parameters."""
    arrays = ", ".join(f"%b::{t}[]" for t in APPEND_TYPES)
    return SQL("SELECT * FROM {schema}.{name}(" + arrays + ") AS notification_id").format(
        schema=Identifier(schema), name=Identifier(APPEND)
    )


def call_append_values(schema: str, lengths: tuple[int, ...]) -> Composed:
    """``SELECT`` of the append function for a small call: one parameter per value.

    ``lengths``: how many values each array holds (0: NULL). Each array is built by
    the server (``ARRAY[$1, $2]``) from scalar parameters, which psycopg dumps in C;
    a list parameter is dumped in Python and parsed as an array by the server
    (0.41 against 0.28 ms per call for a one-line call's ten arrays of one to three
    values, measured with a function that does nothing).
    """
    arrays = ", ".join(
        f"ARRAY[{', '.join([f'%b::{t}'] * n)}]" if n else f"NULL::{t}[]"
        for t, n in zip(APPEND_TYPES, lengths, strict=True)
    )
    return SQL("SELECT * FROM {schema}.{name}(" + arrays + ") AS notification_id").format(
        schema=Identifier(schema), name=Identifier(APPEND)
    )
