"""Fixtures: the example register, a store URL per backend, a ledger on it.

Every storage test runs on SQLite and on PostgreSQL. PostgreSQL comes from
``LEDGER_TEST_POSTGRES_URL`` with a fresh schema per test; without it those tests
skip with the reason shown, unless ``LEDGER_REQUIRE_POSTGRES=1`` (CI), which fails.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile, load_definition
from ledger.bootstrap import Core, initialise
from ledger.clock import FixedClock
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url

EXAMPLE_REGISTER = Path(__file__).parents[1] / "examples" / "register.toml"
PG_ENV = "LEDGER_TEST_POSTGRES_URL"
_RUN = f"t{int(time.time())}_{os.getpid()}"
_counter = itertools.count()
_schemas: list[str] = []


def postgres_url_or_skip() -> str:
    """A fresh schema on the test server, or skip/fail as the environment says."""
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("LEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"LEDGER_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    schema = f"{_RUN}_{next(_counter)}"
    _schemas.append(schema)
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}schema={schema}"


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    yield
    base = os.environ.get(PG_ENV)
    if not base or not _schemas:
        return
    plain = base.split("?")[0].replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        for schema in _schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return postgres_url_or_skip()


@pytest.fixture
def register() -> DefinitionFile:
    return load_definition(EXAMPLE_REGISTER)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def key_source(tmp_path: Path) -> MasterKeySource:
    return MasterKeySource(tmp_path / "keys" / "master.key")


@pytest.fixture
def core(
    store_url: str,
    register: DefinitionFile,
    key_source: MasterKeySource,
    clock: FixedClock,
) -> Iterator[Core]:
    """A new store, initialised and wired by the composition root (sealed per call)."""
    instance = initialise(store_url, register, key_file=key_source.path, clock=clock)
    yield instance
    instance.close()


@pytest.fixture
def ledger(core: Core) -> Ledger:
    return core.ledger


Exec = Callable[[str, tuple[Any, ...]], list[Any]]


@pytest.fixture
def raw(store_url: str) -> Iterator[tuple[Exec, str, str]]:
    """Run SQL on the store behind the ledger's back: (exec, events table, id column)."""
    store = parse_store_url(store_url)
    if store.sqlite_path is not None:
        conn = sqlite3.connect(store.sqlite_path, isolation_level=None)

        def run_sqlite(sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

        yield run_sqlite, "stored_events", "rowid"
        conn.close()
        return
    env = store.env
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"], autocommit=True,
    ) as pg:  # fmt: skip
        pg.execute(f'SET search_path TO "{store.schema}"')

        def run_pg(sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
            cursor = pg.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

        yield run_pg, "ledger_events", "notification_id"
