"""Personal values never reach the store in plaintext; keys live apart, wrapped."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from ledger.appending.application import Ledger
from ledger.errors import KeyUnavailable
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from tests import factories as f

NAME = "Kyllikki Väisänen-Østergaard"
CODE = "010594Y9032"
EMAIL = "kyllikki.v@example.fi"


def _store_bytes(store_url: str, tmp_path: Path) -> bytes:
    store = parse_store_url(store_url)
    if store.sqlite_path is not None:
        files = [store.sqlite_path, Path(f"{store.sqlite_path}-wal")]
        return b"".join(p.read_bytes() for p in files if p.exists())
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed to read the PostgreSQL store's bytes")
    env = store.env
    dump = subprocess.run(
        ["pg_dump", "-h", env["POSTGRES_HOST"], "-p", env["POSTGRES_PORT"], "-U",
         env["POSTGRES_USER"], "-n", store.schema, "--data-only", env["POSTGRES_DBNAME"]],
        check=True, capture_output=True,
    )  # fmt: skip
    return dump.stdout


def test_no_personal_value_is_stored_in_plaintext(
    ledger: Ledger, store_url: str, tmp_path: Path
) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1"),
        f.personal_data("C-1", {"name": NAME, "personal_identity_code": CODE}),
        f.personal_data(
            "C-1",
            {"billing_email": EMAIL},
            category="billing",
            idempotency_key=CODE,
        ),
    )
    raw = _store_bytes(store_url, tmp_path)
    assert b"C-1" in raw  # the dump really holds the store
    for value in (NAME, CODE, EMAIL, "Väisänen", "010594"):
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value
    fields = ledger.stream(ledger.subject_id("C-1"))[1].data.fields
    assert fields == {"name": NAME, "personal_identity_code": CODE}


def test_each_subject_and_category_has_its_own_wrapped_key(ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1"),
        f.subject_registered("C-2"),
        f.personal_data("C-1"),
        f.personal_data("C-1", {"billing_email": EMAIL}, category="billing"),
        f.personal_data("C-2"),
        f.personal_data("C-2", {"name": "Aino V."}),
    )
    ids = [ledger.subject_id("C-1"), ledger.subject_id("C-2")]
    rows = ledger.ledger_recorder.select_keys(ids)
    assert sorted((r.subject_id == ids[0], r.category, r.key_version) for r in rows) == [
        (False, "customer_basic", 1),
        (True, "billing", 1),
        (True, "customer_basic", 1),
    ]
    assert len({r.wrapped for r in rows}) == 3


def test_the_master_key_file_is_readable_by_its_owner_only(
    ledger: Ledger, key_source: MasterKeySource
) -> None:
    mode = stat.S_IMODE(os.stat(key_source.path).st_mode)
    assert mode == 0o600


def test_a_wrong_master_key_is_refused_with_a_clear_error(
    ledger: Ledger, store_url: str, tmp_path: Path
) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    other = MasterKeySource(tmp_path / "other.key")
    other.create()
    reopened = Ledger(parse_store_url(store_url), other)
    with pytest.raises(KeyUnavailable, match="is not the one this store was created with"):
        reopened.stream(reopened.subject_id("C-1"))
    reopened.close()


def test_a_missing_master_key_file_says_what_is_missing(
    ledger: Ledger, store_url: str, tmp_path: Path
) -> None:
    missing = MasterKeySource(tmp_path / "gone" / "master.key")
    reopened = Ledger(parse_store_url(store_url), missing)
    with pytest.raises(KeyUnavailable, match=r"master key file .*gone/master.key does not exist"):
        f.append(reopened, f.subject_registered("C-9"))
    reopened.close()


def test_the_master_key_can_come_from_the_environment(
    store_url: str, register, tmp_path: Path
) -> None:
    key = "q" * 43 + "="
    source = MasterKeySource(tmp_path / "unused.key", env_value=key)
    ledger = Ledger.initialise(
        parse_store_url(store_url), source, register.definition, register.digest
    )
    f.append(ledger, f.subject_registered("C-1"), f.personal_data("C-1"))
    assert not (tmp_path / "unused.key").exists()
    reopened = Ledger(parse_store_url(store_url), MasterKeySource(tmp_path / "x", env_value=key))
    assert reopened.stream(reopened.subject_id("C-1"))[1].data.fields["name"] == "Aino Virtanen"
    ledger.close()
    reopened.close()
