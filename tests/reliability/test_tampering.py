"""Tampering by whoever can write to the database, but not to the key files, is caught.

Issue 11's auditor cases, each on both stores, through the Python API
(``ledger.evidence.verification.verify``) and, for the headline ones, through
``ledger verify``: a forged event after the last checkpoint (1), an altered event
with every checkpoint and Merkle table deleted (2), a consistent truncation and a
rollback to an older copy (3), a key read from the store being verified (4), the
side tables (5), forged and malformed proofs (6), a deleted middle checkpoint (7),
and concurrent sealers.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.appending.listener import NoListener
from ledger.bootstrap import Core, bootstrap, initialise
from ledger.cli import run_captured
from ledger.errors import VerificationFailed
from ledger.evidence.anchor import read_checkpoint_file
from ledger.evidence.proofs import prove_inclusion
from ledger.evidence.verification import STORE_KEY_WARNING, verify
from ledger.integrity.checkpoint import (
    Checkpoint,
    generate_signing_key,
    sign_checkpoint,
    verifier_key,
)
from ledger.integrity.merkle import SubtreeCache, TreeBuilder
from ledger.integrity.verifier import check_inclusion
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from ledger.rights.erasure import erase
from tests import factories as f
from tests.cli.conftest import Append, append, master_key, store
from tests.conftest import Exec

pytestmark = pytest.mark.reliability

__all__ = ["append", "master_key", "store"]  # the command-line fixtures, used below

Raw = tuple[Exec, str, str]


@pytest.fixture
def sealed(core: Core, ledger: Ledger) -> Ledger:
    """Four calls of two events after the notice: checkpoints 1, 3, 5, 7 and 9."""
    for i in range(1, 5):
        f.append(ledger, f.subject_registered(f"C-{i}"), f.personal_data(f"C-{i}"))
    assert [c.size for c in core.sealer.checkpoints()] == [1, 3, 5, 7, 9]
    return ledger


def kinds(report: Any) -> list[tuple[str, int | None]]:
    return [(p.kind, p.size if p.position is None else p.position) for p in report.problems]


def rules(report: Any) -> set[str]:
    return {p.kind for p in report.problems}


def forge_event(run: Exec, table: str, pos: str) -> None:
    """A copy of the event at position 3 under a new version, appended behind the ledger."""
    row = run(
        f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE {pos} = %s",
        (3,),
    )[0]
    run(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s)",
        (row[0], row[1] + 100, row[2], row[3]),
    )


def alter_event(run: Exec, table: str, pos: str, position: int) -> None:
    (state,) = run(f"SELECT state FROM {table} WHERE {pos} = %s", (position,))[0]
    changed = bytearray(state)
    changed[12] ^= 0x01
    run(f"UPDATE {table} SET state = %s WHERE {pos} = %s", (bytes(changed), position))


def drop_seals(run: Exec) -> None:
    for table in ("ledger_checkpoints", "ledger_merkle_leaves", "ledger_merkle_nodes",
                  "ledger_merkle_state"):  # fmt: skip
        run(f"DELETE FROM {table}", ())


def truncate(raw: Raw, ledger: Ledger, *, keep: int, gone: list[str]) -> None:
    """Cut the log to its first ``keep`` events and make every table agree with it."""
    run, table, pos = raw
    sids = [ledger.subject_id(ref).hex for ref in gone]
    run(f"DELETE FROM {table} WHERE {pos} > %s", (keep,))
    for sid in sids:
        for side in ("ledger_subjects", "ledger_keys", "ledger_idempotency"):
            column = "originator_id" if side == "ledger_idempotency" else "subject_id"
            run(f"DELETE FROM {side} WHERE {column} = %s", (sid,))
        run("DELETE FROM ledger_subject_bindings WHERE subject_id = %s", (sid,))
    run("DELETE FROM ledger_merkle_leaves WHERE position > %s", (keep,))
    leaves = run("SELECT hash FROM ledger_merkle_leaves ORDER BY leaf_index", ())
    hashes = [bytes(h) for (h,) in leaves]
    tree = TreeBuilder()
    tree.extend(hashes)
    run("DELETE FROM ledger_merkle_nodes", ())
    for (level, index), digest in SubtreeCache.build(hashes).nodes.items():
        run("INSERT INTO ledger_merkle_nodes VALUES (%s, %s, %s)", (level, index, digest))
    run("DELETE FROM ledger_merkle_state", ())
    run("INSERT INTO ledger_merkle_state VALUES (1, %s, %s)", (tree.size, b"".join(tree.frontier)))
    run("DELETE FROM ledger_checkpoints WHERE size > %s", (tree.size,))


def swap_references(run: Exec, ledger: Ledger, a: str, b: str) -> None:
    sid_a, sid_b = ledger.subject_id(a).hex, ledger.subject_id(b).hex
    spare = "00000000000000000000000000000000"
    run("UPDATE ledger_subjects SET subject_id = %s WHERE ref = %s", (spare, a))
    run("UPDATE ledger_subjects SET subject_id = %s WHERE ref = %s", (sid_a, b))
    run("UPDATE ledger_subjects SET subject_id = %s WHERE ref = %s", (sid_b, a))


@pytest.fixture
def snapshot(store_url: str, raw: Raw) -> Callable[[], Callable[[], None]]:
    """Take a copy of the whole database now; the function it returns restores it."""
    config = parse_store_url(store_url)
    run, table, _ = raw

    def take() -> Callable[[], None]:
        if config.sqlite_path is not None:
            copy = config.sqlite_path.with_name("older-copy.db")
            with sqlite3.connect(config.sqlite_path) as live, sqlite3.connect(copy) as old:
                live.backup(old)

            def restore_file() -> None:
                assert config.sqlite_path is not None
                with sqlite3.connect(copy) as old, sqlite3.connect(config.sqlite_path) as live:
                    old.backup(live)

            return restore_file
        tables = [table, "ledger_subjects", "ledger_keys", "ledger_idempotency",
                  "ledger_merkle_leaves", "ledger_merkle_nodes", "ledger_merkle_state",
                  "ledger_checkpoints", "ledger_subject_bindings"]  # fmt: skip
        for name in tables:
            run(f"CREATE TABLE older_{name} AS SELECT * FROM {name}", ())

        def restore_tables() -> None:
            for name in tables:
                run(f"DELETE FROM {name}", ())
                run(f"INSERT INTO {name} SELECT * FROM older_{name}", ())

        return restore_tables

    return take


# --- 1. a forged event after the last checkpoint -----------------------------------------


def test_a_forged_event_after_the_last_checkpoint_is_unsealed_never_ok(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    forge_event(*raw)
    report = verify(core.sealer)
    assert (report.ok, report.events, report.sealed, report.unsealed) == (False, 10, 9, 1)
    assert kinds(report) == [("unsealed_events", 9)]


def test_ledger_verify_says_a_forged_event_is_unsealed(
    sealed_log: str, raw: Raw, master_key: Path
) -> None:
    forge_event(*raw)
    key = str(master_key.with_name("l.verifier.key"))
    code, out, _ = run_captured(["verify", "--store", sealed_log, "--public-key", key])
    answer = orjson.loads(out)
    assert (code, answer["ok"], answer["unsealed"]) == (5, False, 1)
    assert [p["rule"] for p in answer["problems"]] == ["unsealed_events"]


# --- 2. an altered event, every checkpoint and Merkle table deleted -----------------------


def test_an_altered_log_without_its_checkpoints_fails_against_the_anchor(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    run, table, pos = raw
    alter_event(run, table, pos, 4)
    drop_seals(run)
    report = verify(core.sealer, verifier_key=sealed.verifier_key())
    assert not report.ok
    found = kinds(report)
    assert [k for k in found if k[0] == "checkpoint_missing"] == [
        ("checkpoint_missing", size) for size in (1, 3, 5, 7, 9)
    ]
    assert [k for k in found if k[0] == "checkpoint_root_mismatch"] == [
        ("checkpoint_root_mismatch", size) for size in (5, 7, 9)
    ]  # the anchored roots from the first one covering position 4


def test_a_log_with_events_and_no_checkpoint_at_all_is_not_ok(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    run, table, pos = raw
    alter_event(run, table, pos, 4)
    drop_seals(run)
    assert core.sealer.anchor is not None
    core.sealer.anchor.path.unlink()  # an auditor with no anchor and no saved checkpoint
    report = verify(core.sealer, verifier_key=sealed.verifier_key())
    assert (report.ok, report.checkpoint, report.unsealed) == (False, None, 9)
    assert rules(report) == {"no_checkpoint", "anchor_missing"}


def test_ledger_verify_fails_an_altered_log_whose_seals_were_deleted(
    sealed_log: str, raw: Raw
) -> None:
    run, table, pos = raw
    alter_event(run, table, pos, 4)
    drop_seals(run)
    code, out, _ = run_captured(["verify", "--store", sealed_log])
    answer = orjson.loads(out)
    assert (code, answer["ok"], answer["sealed"]) == (5, False, 0)
    assert {"checkpoint_missing", "checkpoint_root_mismatch"} <= {
        p["rule"] for p in answer["problems"]
    }


# --- 3. a consistent truncation, a rollback to an older copy ------------------------------


def test_a_consistent_truncation_is_a_rollback_below_the_anchored_checkpoint(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    truncate(raw, sealed, keep=5, gone=["C-3", "C-4"])
    report = verify(core.sealer)
    assert not report.ok
    assert kinds(report) == [
        ("checkpoint_missing", 7), ("checkpoint_missing", 9), ("rollback", 7), ("rollback", 9),
    ]  # fmt: skip


def test_sealing_refuses_to_sign_over_a_rolled_back_store(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    truncate(raw, sealed, keep=5, gone=["C-3", "C-4"])
    sealed.listener = NoListener()
    f.append(sealed, f.subject_registered("C-9"))
    with pytest.raises(VerificationFailed, match="fewer than the checkpoint anchored"):
        core.sealer.seal()
    assert [c.size for c in core.sealer.checkpoints()] == [1, 3, 5]


def test_a_rollback_to_an_older_copy_of_the_database_is_caught(
    core: Core,
    sealed: Ledger,
    snapshot: Callable[[], Callable[[], None]],
    store_url: str,
    key_source: MasterKeySource,
) -> None:
    restore = snapshot()
    f.append(sealed, f.subject_registered("C-5"), f.personal_data("C-5"))
    f.append(sealed, f.subject_registered("C-6"))
    assert verify(core.sealer).ok
    restore()
    with bootstrap(store_url, key_file=key_source.path, seal_every=3600) as reopened:
        report = verify(reopened.sealer)
    assert not report.ok
    assert kinds(report) == [
        ("checkpoint_missing", 11), ("checkpoint_missing", 12), ("rollback", 11), ("rollback", 12),
    ]  # fmt: skip


def test_an_auditors_saved_checkpoint_catches_a_rollback_without_the_anchor(
    core: Core, sealed: Ledger, raw: Raw, tmp_path: Path
) -> None:
    saved = tmp_path / "auditor-checkpoint.txt"
    latest = core.sealer.latest()
    assert latest is not None
    saved.write_text(latest.note, encoding="utf-8")
    truncate(raw, sealed, keep=5, gone=["C-3", "C-4"])
    assert core.sealer.anchor is not None
    core.sealer.anchor.path.unlink()
    report = verify(core.sealer, checkpoints=[read_checkpoint_file(saved)])
    assert (report.given, rules(report)) == (1, {"checkpoint_missing", "rollback"})


def test_ledger_verify_names_a_rollback(sealed_log: str, raw: Raw, master_key: Path) -> None:
    with bootstrap(sealed_log, key_file=master_key, seal_every=3600) as core:
        truncate(raw, core.ledger, keep=5, gone=["C-2"])
    code, out, _ = run_captured(["verify", "--store", sealed_log])
    answer = orjson.loads(out)
    assert code == 5
    assert [(p["rule"], p["size"]) for p in answer["problems"]] == [
        ("checkpoint_missing", 7), ("rollback", 7),
    ]  # fmt: skip
    saved = master_key.with_name("l.checkpoints")
    code, out, _ = run_captured(["verify", "--store", sealed_log, "--checkpoint", str(saved)])
    assert (code, orjson.loads(out)["given_checkpoints"]) == (5, 4)


# --- 4. the key the store holds ----------------------------------------------------------


def resign_with_another_key(run: Exec, ledger: Ledger) -> str:
    """Replace the store's verifier key and re-sign every checkpoint (no signing key needed)."""
    origin = ledger.verifier_key().split("+", 1)[0]
    forger = generate_signing_key()
    forged_key = verifier_key(origin, forger.public_key())
    run("UPDATE ledger_meta SET value = %s WHERE name = %s", (forged_key.encode(), "verifier_key"))
    for size, root in run("SELECT size, root FROM ledger_checkpoints", ()):
        note = sign_checkpoint(Checkpoint(origin, size, bytes(root)), origin, forger)
        run("UPDATE ledger_checkpoints SET note = %s WHERE size = %s", (note.decode(), size))
    return forged_key


def test_verify_trusts_the_key_file_beside_the_keys_not_the_store(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    resign_with_another_key(raw[0], sealed)
    report = verify(core.sealer)
    assert (report.ok, report.key_source, report.key_warning) == (False, "configured", None)
    assert {"bad_checkpoint_signature"} <= rules(report)


def test_a_key_read_from_the_store_is_said_to_prove_nothing(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    assert core.sealer.verifier_file is not None
    core.sealer.verifier_file.unlink()
    report = verify(core.sealer)
    answer = report.as_dict()
    assert (answer["verifier_key_from"], answer["verifier_key_warning"]) == (
        "store", STORE_KEY_WARNING,
    )  # fmt: skip


def test_ledger_verify_fails_a_log_re_signed_under_a_key_put_in_the_store(
    sealed_log: str, raw: Raw, master_key: Path
) -> None:
    with bootstrap(sealed_log, key_file=master_key, seal_every=3600) as core:
        resign_with_another_key(raw[0], core.ledger)
    code, out, _ = run_captured(["verify", "--store", sealed_log])
    answer = orjson.loads(out)
    assert (code, answer["verifier_key_from"]) == (5, "configured")


# --- 5. the side tables ------------------------------------------------------------------


def test_two_swapped_subject_references_are_named(core: Core, sealed: Ledger, raw: Raw) -> None:
    before = {ref: sealed.subject_id(ref) for ref in ("C-1", "C-2")}
    swap_references(raw[0], sealed, "C-1", "C-2")
    assert sealed.subject_id("C-1") == before["C-2"]  # the harm: C-1 now reads as C-2
    report = verify(core.sealer)
    assert not report.ok
    assert [(p.kind, p.message.split(" ")[4]) for p in report.problems] == sorted(
        ("subject_reference_altered", f"{before[ref]}") for ref in ("C-1", "C-2")
    )
    assert all("C-1" not in p.message and "C-2" not in p.message for p in report.problems)


def test_swapped_references_with_their_bindings_deleted_are_named_unbound(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    swap_references(raw[0], sealed, "C-1", "C-2")
    raw[0]("DELETE FROM ledger_subject_bindings", ())
    report = verify(core.sealer)
    assert kinds(report) == [("subject_unbound", position) for position in (2, 4, 6, 8)]


def test_a_deleted_subject_reference_is_named_unless_an_erasure_removed_it(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    erase(sealed, "C-4", reason="request 9")
    assert verify(core.sealer).ok
    raw[0]("DELETE FROM ledger_subjects WHERE ref = %s", ("C-2",))
    assert kinds(verify(core.sealer)) == [("subject_reference_missing", 4)]


def test_every_anchored_checkpoint_says_from_where_subjects_are_bound(
    core: Core, sealed: Ledger
) -> None:
    assert core.sealer.anchor is not None
    records = core.sealer.anchor.read().records
    assert [(r.size, r.bindings_from) for r in records] == [(n, 1) for n in (1, 3, 5, 7, 9)]


def test_a_data_key_nulled_outside_an_erasure_is_named(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    sid = sealed.subject_id("C-3")
    raw[0]("UPDATE ledger_keys SET wrapped = NULL WHERE subject_id = %s", (sid.hex,))
    report = verify(core.sealer)
    assert kinds(report) == [("key_destroyed_without_erasure", 7)]
    assert f"{sid}" in report.problems[0].message


def test_a_deleted_data_key_row_is_named(core: Core, sealed: Ledger, raw: Raw) -> None:
    raw[0]("DELETE FROM ledger_keys WHERE subject_id = %s", (sealed.subject_id("C-2").hex,))
    assert kinds(verify(core.sealer)) == [("key_missing", 5)]


def test_a_key_nulled_after_an_erasure_of_an_earlier_key_is_still_named(
    core: Core, sealed: Ledger, raw: Raw
) -> None:
    erase(sealed, "C-1", reason="request 7", categories=["customer_basic"])
    f.append(sealed, f.personal_data("C-1"))  # a new key version after the erasure
    assert verify(core.sealer).ok
    raw[0]("UPDATE ledger_keys SET wrapped = NULL WHERE subject_id = %s",
           (sealed.subject_id("C-1").hex,))  # fmt: skip
    assert rules(verify(core.sealer)) == {"key_destroyed_without_erasure"}


def test_ledger_verify_names_swapped_references(
    sealed_log: str, raw: Raw, master_key: Path
) -> None:
    with bootstrap(sealed_log, key_file=master_key, seal_every=3600) as core:
        swap_references(raw[0], core.ledger, "C-0", "C-1")
    code, out, _ = run_captured(["verify", "--store", sealed_log])
    answer = orjson.loads(out)
    assert code == 5
    assert [p["rule"] for p in answer["problems"]] == ["subject_reference_altered"] * 2


# --- 6. proofs ---------------------------------------------------------------------------


def test_a_proof_with_a_forged_leaf_hash_fails(core: Core, sealed: Ledger, tmp_path: Path) -> None:
    proof = prove_inclusion(core.sealer, 4)
    assert check_inclusion(proof, sealed.verifier_key()) == []
    forged = proof | {"leaf_hash": "00" * 32}
    assert check_inclusion(forged, sealed.verifier_key()) == [
        "the proof's leaf_hash is not the hash of the event at position 4"
    ]
    (tmp_path / "forged.json").write_bytes(orjson.dumps(forged))
    key = sealed.verifier_key()
    args = ["verify-proof", str(tmp_path / "forged.json"), "--public-key", key]
    code, out, _ = run_captured(args)
    assert (code, [p["rule"] for p in orjson.loads(out)["problem_details"]]) == (
        5, ["leaf_hash_mismatch"],
    )  # fmt: skip


def test_a_proof_of_an_event_the_store_does_not_hold_fails_against_the_store(
    sealed_log: str, tmp_path: Path, raw: Raw
) -> None:
    _, out, _ = run_captured(["prove", "4", "--store", sealed_log])
    (tmp_path / "proof.json").write_text(out, encoding="utf-8")
    run, table, pos = raw
    alter_event(run, table, pos, 4)
    args = ["verify-proof", str(tmp_path / "proof.json"), "--store", sealed_log]
    code, out, _ = run_captured(args)
    assert (code, [p["rule"] for p in orjson.loads(out)["problem_details"]]) == (
        5, ["event_not_in_store"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("document", "code", "rule"),
    [
        (b"[1, 2]", 2, "configuration_error"),
        (b'"text"', 2, "configuration_error"),
        (b"{not json", 2, "configuration_error"),
        (b'{"format": "consent-ledger/inclusion-proof/1", "checkpoint": 5}', 5, "malformed_proof"),
        (b'{"format": "consent-ledger/inclusion-proof/1"}', 5, "malformed_proof"),
        (b'{"format": "consent-ledger/consistency-proof/1", "old_checkpoint": []}', 5,
         "malformed_proof"),
    ],
    ids=["list", "string", "not-json", "wrong-type", "missing-keys", "consistency-wrong-type"],
)  # fmt: skip
def test_a_malformed_proof_file_gets_one_line_and_its_exit_code(
    sealed_log: str, tmp_path: Path, document: bytes, code: int, rule: str
) -> None:
    (tmp_path / "proof.json").write_bytes(document)
    _, key, _ = run_captured(["public-key", "--store", sealed_log])
    args = ["verify-proof", str(tmp_path / "proof.json"), "--public-key", key.strip(), "--json"]
    got, out, err = run_captured(args)
    assert got == code
    assert "Traceback" not in out + err
    if code == 2:
        assert orjson.loads(err)["rule"] == rule
    else:
        assert [p["rule"] for p in orjson.loads(out)["problem_details"]] == [rule]
    standalone = subprocess.run(
        [sys.executable, "-m", "ledger.integrity.verifier", str(tmp_path / "proof.json"),
         "--key", key.strip()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert standalone.returncode == code
    assert "Traceback" not in standalone.stderr
    assert len(standalone.stderr.splitlines()) == 1


# --- 7. a deleted middle checkpoint ------------------------------------------------------


def test_a_deleted_middle_checkpoint_is_named(core: Core, sealed: Ledger, raw: Raw) -> None:
    raw[0]("DELETE FROM ledger_checkpoints WHERE size = %s", (5,))
    assert kinds(verify(core.sealer)) == [("checkpoint_missing", 5)]


def test_ledger_verify_names_a_deleted_middle_checkpoint(sealed_log: str, raw: Raw) -> None:
    raw[0]("DELETE FROM ledger_checkpoints WHERE size = %s", (3,))
    code, out, _ = run_captured(["verify", "--store", sealed_log])
    assert (code, [(p["rule"], p["size"]) for p in orjson.loads(out)["problems"]]) == (
        5, [("checkpoint_missing", 3)],
    )  # fmt: skip


# --- sealing under concurrent writers ----------------------------------------------------


def test_concurrent_writers_seal_one_at_a_time(
    store_url: str, register: DefinitionFile, key_source: MasterKeySource
) -> None:
    initialise(store_url, register, key_file=key_source.path).close()
    cores = [bootstrap(store_url, key_file=key_source.path) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(cores))

    def work(number: int, core: Core) -> None:
        try:
            start.wait()
            for i in range(6):
                ref = f"C-{number}-{i}"
                f.append(core.ledger, f.subject_registered(ref), f.personal_data(ref))
                core.sealer.seal()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(cores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = [c.policy.failure for c in cores if c.policy.failure is not None]
    for core in cores:
        core.close()
    assert (errors, failures) == ([], [])
    with bootstrap(store_url, key_file=key_source.path) as core:
        report = verify(core.sealer)
        assert (report.ok, report.events, report.unsealed) == (True, 49, 0)
        assert report.anchored == len(core.sealer.checkpoints())


@pytest.fixture
def sealed_log(store: str, append: Append) -> str:
    """Three subjects appended in three calls: seven events, each call sealed."""
    for i in range(3):
        append(f.subject_registered(f"C-{i}"), f.personal_data(f"C-{i}"))
    return store
