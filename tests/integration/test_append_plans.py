"""No append reads a whole table: one-line appends (and the seal of what they wrote,
when the ledger closes) leave every growing table's sequential-scan count unchanged
on PostgreSQL, read from ``pg_stat_user_tables``: calls that read the store first,
and calls about known subjects that only write (``ledger.appending.known``).

The counts are per table and server-wide; a backend flushes its counts when it
exits, so each measurement closes the ledger (its connections) and waits for the
counts to settle. The index-scan counts must grow at the same time, which proves
the counts were flushed (otherwise "unchanged" would prove nothing).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import psycopg
import pytest

from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import bootstrap, initialise
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from tests import factories as f
from tests.conftest import postgres_url_or_skip

pytestmark = pytest.mark.postgres

# The tables that grow with the log. ledger_meta and ledger_merkle_state hold a
# handful of rows whatever the log's size: reading them is constant work.
GROWING = ("ledger_events", "ledger_subjects", "ledger_idempotency", "ledger_keys")
SUBJECTS = 400
APPENDS = 24


@pytest.fixture
def pg_url() -> str:
    return postgres_url_or_skip()


@pytest.fixture
def stats(pg_url: str) -> Iterator[psycopg.Connection]:
    env = parse_store_url(pg_url).env
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"], autocommit=True,
    ) as conn:  # fmt: skip
        yield conn


def scans(conn: psycopg.Connection, schema: str) -> dict[str, tuple[int, int]]:
    """(seq_scan, idx_scan) per growing table, once the counts stop moving."""

    def read() -> dict[str, tuple[int, int]]:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = conn.execute(
            "SELECT relname, seq_scan, COALESCE(idx_scan, 0) FROM pg_stat_user_tables"
            " WHERE schemaname = %s",
            (schema,),
        ).fetchall()
        return {name: (seq, idx) for name, seq, idx in rows if name in GROWING}

    time.sleep(0.5)
    last, deadline = read(), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        if now == last:
            return now
        last = now
    return last


def load(url: str, register: DefinitionFile, key_file: str, *, analyze_empty: bool) -> None:
    core = initialise(url, register, key_file=key_file, seal_every=3600)
    if analyze_empty:
        with core.ledger.datastore.get_connection() as conn:
            for table in GROWING:
                conn.execute(f'ANALYZE "{parse_store_url(url).schema}".{table}')
    lines = []
    for i in range(SUBJECTS):
        ref = f"C-{i}"
        lines += [
            f.subject_registered(ref, idempotency_key=f"r-{i}"),
            f.personal_data(ref, idempotency_key=f"p-{i}"),
            f.personal_data(ref, {"cookie_id": f"ck-{i}"}, category="cookies", source="cookies",
                            idempotency_key=f"c-{i}"),
            f.personal_data(ref, {"ip_address": "192.0.2.1"}, category="web_logs",
                            source="web_services", idempotency_key=f"w-{i}"),
            f.contract_started(ref, idempotency_key=f"k-{i}"),
        ]  # fmt: skip
    for start in range(0, len(lines), 500):
        core.ledger.append_batch([orjson.dumps(x) for x in lines[start : start + 500]])
    core.close()


def one_line_appends(url: str, key_file: str) -> None:
    """Calls about subjects the process does not know (each reads them first), then
    as many about the same subjects, now known (each only writes:
    ``ledger.appending.known``)."""
    core = bootstrap(url, key_file=key_file, seal_every=3600)
    for n in range(2 * APPENDS):
        ref = f"C-{(n % APPENDS * 37) % SUBJECTS}"
        kind = n % 4
        if kind == 0:
            line = f.personal_data(ref, {"name": f"N {n}"}, idempotency_key=f"x-{n}")
        elif kind == 1:
            line = f.disclosed(ref, idempotency_key=f"x-{n}")  # judged: reads the stream
        elif kind == 2:
            line = f.profile_derived(ref, idempotency_key=f"x-{n}")  # reads the keys
        else:
            line = f.consent_granted(ref, idempotency_key=f"x-{n}")
        core.ledger.append_batch([orjson.dumps(line)])
    core.ledger.append_batch([orjson.dumps(f.personal_data("C-1", idempotency_key="p-1"))])
    core.close()


@pytest.mark.parametrize(
    "analyze_empty",
    [False, True],
    ids=["after-a-bulk-load", "after-analyze-on-empty-tables-then-a-bulk-load"],
)
def test_one_line_appends_never_scan_a_growing_table(
    pg_url: str,
    stats: psycopg.Connection,
    register: DefinitionFile,
    key_source: MasterKeySource,
    analyze_empty: bool,
) -> None:
    key_file = str(key_source.path)
    schema = parse_store_url(pg_url).schema
    load(pg_url, register, key_file, analyze_empty=analyze_empty)
    before = scans(stats, schema)
    one_line_appends(pg_url, key_file)
    after = scans(stats, schema)
    seq = {t: after[t][0] - before[t][0] for t in GROWING}
    idx = {t: after[t][1] - before[t][1] for t in GROWING}
    assert seq == dict.fromkeys(GROWING, 0)
    assert idx["ledger_subjects"] >= APPENDS  # the counts were flushed: look-ups happened
    assert idx["ledger_idempotency"] >= APPENDS
    assert idx["ledger_events"] >= APPENDS
