"""The writer's kept connection on PostgreSQL: one pooled connection carries a
process's one-chunk appends, a connection the server ended is replaced within the
call, and closing the ledger hands it back.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import bootstrap, initialise
from ledger.persistence import postgres_functions as functions
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from tests import factories as f
from tests.conftest import postgres_url_or_skip

pytestmark = pytest.mark.postgres


def writers(url: str) -> list[int]:
    """Server processes whose last statement was this store's append function."""
    schema = parse_store_url(url).schema
    call = f'%"{schema}"."{functions.APPEND}"%'
    with psycopg.connect(url.split("?", maxsplit=1)[0], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
            (call,),
        ).fetchall()
    return [pid for (pid,) in rows]


def settled(url: str, expected: int) -> int:
    """How many writer connections there are, once that number is ``expected`` or 10 s
    have passed (a closed connection's server process ends a moment later)."""
    deadline = time.monotonic() + 10
    while len(writers(url)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(writers(url))


def test_one_connection_carries_every_one_line_append_and_closing_the_ledger_hands_it_back(
    register: DefinitionFile, key_source: MasterKeySource
) -> None:
    url = postgres_url_or_skip()
    with initialise(url, register, key_file=str(key_source.path), seal_every=3600) as core:
        f.append(core.ledger, f.subject_registered("C-1"))
        for n in range(5):
            f.append(core.ledger, f.personal_data("C-1", {"name": f"Aino {n}"}))
        assert settled(url, 1) == 1
    assert settled(url, 0) == 0


def test_a_writer_connection_the_server_ended_is_replaced_and_the_call_still_commits(
    register: DefinitionFile, key_source: MasterKeySource
) -> None:
    url = postgres_url_or_skip()
    key_file = str(key_source.path)
    with initialise(url, register, key_file=key_file, seal_every=3600) as core:
        f.append(core.ledger, f.subject_registered("C-1"))
        (pid,) = writers(url)
        with psycopg.connect(url.split("?", maxsplit=1)[0], autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        result = f.append(core.ledger, f.personal_data("C-1"))
        assert result.appended == 1
        assert writers(url) != [pid]
    with bootstrap(url, key_file=key_file, seal_every=3600) as core:
        topics = [e.topic for e in core.ledger.recorder.select_events(
            core.ledger.subject_id("C-1"))]  # fmt: skip
        assert topics == ["SubjectRegistered", "PersonalDataRecorded"]
