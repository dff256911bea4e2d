"""Tampering directly in the database is detected and named, on both stores."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.appending.listener import NoListener
from ledger.bootstrap import Core, initialise
from ledger.errors import VerificationFailed
from ledger.evidence.verification import verify
from ledger.persistence.keys import MasterKeySource
from ledger.rights.erasure import erase
from tests import factories as f
from tests.conftest import Exec


@pytest.fixture
def sealed(core: Core, ledger: Ledger) -> Ledger:
    for i in range(1, 5):
        f.append(ledger, f.subject_registered(f"C-{i}"), f.personal_data(f"C-{i}"))
        core.sealer.seal()
    return ledger  # 9 events (the notice and 8), 4 checkpoints


def problems(core: Core) -> list[tuple[str, int | None]]:
    report = verify(core.sealer)
    assert report.ok is (not report.problems)
    return [(p.kind, p.position if p.position is not None else p.size) for p in report.problems]


def test_an_untouched_log_verifies(core, sealed: Ledger) -> None:
    report = verify(core.sealer)
    assert report.as_dict()["ok"] is True
    assert (report.events, report.sealed) == (9, 9)
    assert report.checkpoint is not None
    assert report.checkpoint.size == 9


def test_a_changed_byte_in_an_event_is_named(
    core: Core, sealed: Ledger, raw: tuple[Exec, str, str]
) -> None:
    run, table, pos = raw
    (state,) = run(f"SELECT state FROM {table} WHERE {pos} = %s", (5,))[0]
    changed = bytearray(state)
    changed[10] ^= 0x01
    run(f"UPDATE {table} SET state = %s WHERE {pos} = %s", (bytes(changed), 5))
    found = problems(core)
    assert ("altered_event", 5) in found
    assert ("checkpoint_root_mismatch", 7) in found  # the first checkpoint covering it


def test_a_deleted_event_is_named(core: Core, sealed: Ledger, raw: tuple[Exec, str, str]) -> None:
    run, table, pos = raw
    run(f"DELETE FROM {table} WHERE {pos} = %s", (4,))
    found = problems(core)
    assert found[0] == ("missing_event", 4)


def test_an_inserted_event_is_named(core: Core, sealed: Ledger, raw: tuple[Exec, str, str]) -> None:
    run, table, pos = raw
    run(f"UPDATE {table} SET {pos} = -{pos} WHERE {pos} >= %s", (4,))
    run(f"UPDATE {table} SET {pos} = 1 - {pos} WHERE {pos} < 0", ())
    row = run(
        f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE {pos} = %s",
        (3,),
    )[0]
    run(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state, {pos})"
        " VALUES (%s, %s, %s, %s, %s)",
        (row[0], row[1] + 100, row[2], row[3], 4),
    )
    found = problems(core)
    assert found[0] == ("altered_event", 4)
    assert any(kind == "checkpoint_root_mismatch" for kind, _ in found)


def test_two_swapped_events_are_named(
    core: Core, sealed: Ledger, raw: tuple[Exec, str, str]
) -> None:
    run, table, pos = raw
    (a,) = run(f"SELECT state FROM {table} WHERE {pos} = %s", (5,))[0]
    (b,) = run(f"SELECT state FROM {table} WHERE {pos} = %s", (7,))[0]
    assert a != b
    run(f"UPDATE {table} SET state = %s WHERE {pos} = %s", (b, 5))
    run(f"UPDATE {table} SET state = %s WHERE {pos} = %s", (a, 7))
    found = problems(core)
    assert [p for p in found if p[0] == "altered_event"] == [
        ("altered_event", 5),
        ("altered_event", 7),
    ]


def test_a_truncated_tail_is_named(core: Core, sealed: Ledger, raw: tuple[Exec, str, str]) -> None:
    run, table, pos = raw
    run(f"DELETE FROM {table} WHERE {pos} > %s", (6,))
    found = problems(core)
    assert [p for p in found if p[0] == "missing_event"] == [
        ("missing_event", 7), ("missing_event", 8), ("missing_event", 9),
    ]  # fmt: skip
    assert ("truncated_log", 9) in found


def test_an_altered_checkpoint_is_named(
    core: Core, sealed: Ledger, raw: tuple[Exec, str, str]
) -> None:
    run, _, _ = raw
    (note,) = run("SELECT note FROM ledger_checkpoints WHERE size = %s", (5,))[0]
    run(
        "UPDATE ledger_checkpoints SET note = %s WHERE size = %s",
        (note.replace("\n5\n", "\n6\n"), 5),
    )
    (root,) = run("SELECT root FROM ledger_checkpoints WHERE size = %s", (7,))[0]
    run("UPDATE ledger_checkpoints SET root = %s WHERE size = %s", (bytes(32), 7))
    found = problems(core)
    assert ("bad_checkpoint_signature", 5) in found
    assert ("checkpoint_row_altered", 7) in found
    assert len(root) == 32


def test_sealing_refuses_to_sign_over_altered_leaves(
    core, sealed: Ledger, raw: tuple[Exec, str, str]
) -> None:
    run, _, _ = raw
    run("UPDATE ledger_merkle_leaves SET hash = %s WHERE leaf_index = %s", (bytes(32), 2))
    f.append(sealed, f.subject_registered("C-9"))  # committed; the seal after it refuses
    assert isinstance(core.policy.failure, VerificationFailed)
    assert "does not extend the checkpoint of 9 events" in str(core.policy.failure)
    with pytest.raises(VerificationFailed, match="does not extend the checkpoint of 9 events"):
        core.sealer.seal()


def test_destroying_data_keys_by_erasure_does_not_break_verification(
    core: Core, sealed: Ledger
) -> None:
    for i in range(1, 5):
        erase(sealed, f"C-{i}", reason="request 42")
    assert problems(core) == []


def test_every_append_through_the_library_leaves_the_log_sealed(core: Core, sealed: Ledger) -> None:
    f.append(sealed, f.subject_registered("C-9"))
    report = verify(core.sealer)
    assert report.ok
    assert (report.events, report.sealed, report.unsealed) == (10, 10, 0)
    assert report.checkpoint is not None
    assert report.checkpoint.size == 10


def test_events_no_checkpoint_covers_are_reported_unsealed_not_ok(
    core: Core, sealed: Ledger
) -> None:
    sealed.listener = NoListener()  # a ledger nobody wired to the sealing policy
    f.append(sealed, f.subject_registered("C-9"))
    report = verify(core.sealer)
    assert not report.ok
    assert (report.events, report.unsealed) == (10, 1)
    assert [(p.kind, p.size) for p in report.problems] == [("unsealed_events", 9)]
    assert report.problems[0].message == (
        "1 of 10 events are covered by no signed checkpoint yet: run `ledger seal`,"
        " then verify again"
    )


def test_the_signing_key_file_is_readable_by_its_owner_only(sealed: Ledger) -> None:
    assert stat.S_IMODE(os.stat(sealed.signing_key.path).st_mode) == 0o600
    assert sealed.verifier_key().startswith("consent-ledger.invalid/")


def test_stores_sharing_key_files_each_verify_under_their_own_key(
    register: DefinitionFile, key_source: MasterKeySource, tmp_path: Path
) -> None:
    first = initialise(f"sqlite:///{tmp_path / 'a.db'}", register, key_file=key_source.path)
    second = initialise(f"sqlite:///{tmp_path / 'b.db'}", register, key_file=key_source.path)
    for core in (first, second):
        report = verify(core.sealer)
        assert (report.ok, report.key_source) == (True, "configured")
        core.close()
    assert second.sealer.verifier_file is not None
    assert len(second.sealer.verifier_file.read_text(encoding="utf-8").split()) == 2
