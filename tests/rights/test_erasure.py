"""Erasure by crypto-shredding, statutory holds, and what remains in the files."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.appending.application import Ledger
from ledger.clock import FixedClock
from ledger.errors import InvalidRequest, SubjectNotFound
from ledger.evidence.verification import verify
from ledger.persistence.store import parse_store_url
from ledger.rights.erasure import erase
from projections.replay import replay_compare
from tests import factories as f

NAME = "Sigrid Äijälä-Ströhm"
CODE = "010594Y9032"


def store_bytes(store_url: str) -> bytes:
    store = parse_store_url(store_url)
    if store.sqlite_path is not None:
        files = [store.sqlite_path, Path(f"{store.sqlite_path}-wal")]
        return b"".join(p.read_bytes() for p in files if p.exists())
    assert shutil.which("pg_dump"), "pg_dump is needed to read the PostgreSQL store"
    env = store.env
    return subprocess.run(
        ["pg_dump", "-h", env["POSTGRES_HOST"], "-p", env["POSTGRES_PORT"], "-U",
         env["POSTGRES_USER"], "-n", store.schema, env["POSTGRES_DBNAME"]],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"name": NAME, "personal_identity_code": CODE},
                        occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"billing_email": "sigrid@example.fi"}, category="billing",
                        occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck-77"}, category="cookies", source="cookies",
                        occurred_at="2023-06-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2022-01-01T00:00:00Z"),
    )  # fmt: skip
    return ledger


def test_erasing_a_customer_with_a_running_contract_holds_the_statutory_categories(
    core,
    customer: Ledger,
) -> None:
    result = erase(customer, "C-1", reason="request R-17")
    assert result.erased == ("cookies",)
    assert {h.category: h.until for h in result.held} == {"billing": None, "customer_basic": None}
    assert all(h.reason == "a contract is running" for h in result.held)
    assert not result.reference_removed
    answer = core.views().subject("C-1", at=customer.clock.now(), known_at=None)
    assert answer.fields["cookies"]["cookie_id"].erased
    assert answer.fields["customer_basic"]["name"].value == NAME
    assert "cookies" in answer.erased


def test_an_erasure_reason_with_a_control_character_is_refused_naming_the_field_and_erases_nothing(
    customer: Ledger,
) -> None:
    head = customer.recorder.max_notification_id()
    with pytest.raises(InvalidRequest) as refused:
        erase(customer, "C-1", reason="request\x00R-17")
    assert (refused.value.rule, refused.value.field) == ("invalid_character", "reason")
    assert "R-17" not in str(refused.value)
    assert customer.recorder.max_notification_id() == head


def test_an_unknown_category_is_refused_without_repeating_what_was_sent(
    customer: Ledger,
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        erase(customer, "C-1", reason="R-17", categories=["131052-308T"], scope="category")
    assert (refused.value.rule, refused.value.field) == ("unknown_category", "categories")
    assert "131052-308T" not in str(refused.value)


def test_a_long_unknown_reference_is_not_repeated(customer: Ledger) -> None:
    with pytest.raises(SubjectNotFound) as refused:
        customer.subject_id("x" * 5000)
    assert "x" * 65 not in str(refused.value)


def test_after_the_holds_end_everything_goes_and_the_reference_no_longer_finds_the_subject(
    core, customer: Ledger, clock: FixedClock, store_url: str
) -> None:
    f.append(customer, f.contract_ended("C-1", occurred_at="2022-05-01T00:00:00Z"))
    subject_id = customer.subject_id("C-1")
    held = erase(customer, "C-1", reason="request R-17").held
    assert {h.category: h.until for h in held} == {
        "billing": datetime(2032, 12, 31, 22, tzinfo=UTC),  # 2033-01-01 in Helsinki
        "customer_basic": datetime(2025, 12, 31, 22, tzinfo=UTC),
    }
    clock.at = datetime(2033, 1, 2, tzinfo=UTC)
    result = erase(customer, "C-1", reason="request R-17, holds ended")
    assert set(result.erased) == {"billing", "customer_basic"}
    assert result.reference_removed
    with pytest.raises(SubjectNotFound, match=r"^no subject is registered under reference 'C-1'$"):
        customer.subject_id("C-1")
    events = customer.stream(subject_id)
    assert [e.type for e in events][-2:] == ["SubjectErased", "SubjectErased"]
    recorded = [e for e in events if e.type == "PersonalDataRecorded"]
    assert all(e.data.fields == {} for e in recorded)
    assert {c for e in recorded for c in e.erased} == {"customer_basic", "billing", "cookies"}
    assert verify(core.sealer).ok
    raw = store_bytes(store_url)
    for value in (NAME, CODE, "Äijälä", "sigrid@example.fi", "ck-77"):
        assert value.encode() not in raw


def test_no_destroyed_key_can_be_found_in_the_database_files(
    customer: Ledger, store_url: str
) -> None:
    subject_id = customer.subject_id("C-1")
    wrapped = [
        k.wrapped
        for k in customer.ledger_recorder.select_keys([subject_id])
        if k.category == "cookies"
    ]
    assert wrapped
    assert wrapped[0] is not None
    erase(customer, "C-1", reason="cookies only", categories=["cookies"])
    raw = store_bytes(store_url)
    for key in wrapped:
        assert key is not None
        assert key not in raw
        assert base64.b64encode(key) not in raw
        assert key.hex().encode() not in raw  # pg_dump writes bytea as hex


def test_erasing_one_category_keeps_the_rest(customer: Ledger) -> None:
    result = erase(customer, "C-1", reason="R-9", categories=["cookies", "customer_basic"])
    assert result.erased == ("cookies",)
    assert [h.category for h in result.held] == ["customer_basic"]
    assert customer.subject_id("C-1")


def test_new_data_after_an_erasure_gets_a_new_key(core, customer: Ledger) -> None:
    erase(customer, "C-1", reason="R-9", categories=["cookies"])
    f.append(
        customer,
        f.personal_data(
            "C-1",
            {"cookie_id": "ck-99"},
            category="cookies",
            source="cookies",
            occurred_at="2024-01-01T00:00:00Z",
        ),
    )
    answer = core.views().subject("C-1", at=customer.clock.now(), known_at=None)
    assert answer.fields["cookies"]["cookie_id"].value == "ck-99"
    keys = customer.ledger_recorder.select_keys([customer.subject_id("C-1")])
    versions = sorted(k.key_version for k in keys if k.category == "cookies")
    assert versions == [1, 2]


def test_a_rebuild_after_erasure_gives_the_same_views(core, customer: Ledger) -> None:
    erase(customer, "C-1", reason="R-9", categories=["cookies"])
    _, differences, _ = replay_compare(core.ledger, core.store)
    assert differences == []
