"""The two server-side functions an append calls on PostgreSQL: installed by
``ledger init``, installed on first open in a store made before them, and one
statement per side of a call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import IntegrityError

from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import bootstrap, initialise
from ledger.persistence import postgres_functions as functions
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.recorders import SideRows
from ledger.persistence.store import parse_store_url
from tests import factories as f
from tests.conftest import postgres_url_or_skip

pytestmark = pytest.mark.postgres


def installed(core_url: str, ledger: object) -> set[str]:
    schema = parse_store_url(core_url).schema
    with ledger.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = %s",
            (schema,),
        ).fetchall()
    return {r["proname"] for r in rows}


def test_a_store_made_before_the_append_functions_gets_them_when_next_opened(
    register: DefinitionFile, key_source: MasterKeySource
) -> None:
    url = postgres_url_or_skip()
    key_file = str(key_source.path)
    with initialise(url, register, key_file=key_file, seal_every=3600) as core:
        assert {functions.PREFETCH, functions.APPEND} <= installed(url, core.ledger)
        core.ledger.append_batch([orjson.dumps(f.subject_registered("C-1"))])
        schema = parse_store_url(url).schema
        with core.ledger.datastore.get_connection() as conn:
            conn.execute(f'DROP FUNCTION "{schema}".{functions.PREFETCH}')
            conn.execute(f'DROP FUNCTION "{schema}".{functions.APPEND}')
    with bootstrap(url, key_file=key_file, seal_every=3600) as core:
        assert {functions.PREFETCH, functions.APPEND} <= installed(url, core.ledger)
        result = core.ledger.append_batch([orjson.dumps(f.personal_data("C-1"))])
        assert result.appended == 1


def test_a_uniqueness_violation_inside_the_append_function_stores_nothing_of_the_call(
    register: DefinitionFile, key_source: MasterKeySource
) -> None:
    url = postgres_url_or_skip()
    with initialise(url, register, key_file=str(key_source.path), seal_every=3600) as core:
        ledger = core.ledger
        ledger.append_batch([orjson.dumps(f.subject_registered("C-1", idempotency_key="a"))])
        recorder = ledger.ledger_recorder
        taken = recorder.select_streams([ledger.subject_id("C-1")])[0]
        head = ledger.recorder.max_notification_id()
        side = SideRows(subjects=[("C-2", uuid4(), datetime.now(UTC))])
        with pytest.raises(IntegrityError):
            recorder.insert_events([taken], side=side)  # the stream's version 1 is taken
        assert ledger.recorder.max_notification_id() == head
        assert recorder.select_subjects(["C-2"]) == {}
