"""seal, verify, prove, verify-proof, export-log and public-key from the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.cli import run_captured
from ledger.cli.integrity import STORE_KEY_WARNING
from ledger.integrity.checkpoint import generate_signing_key, verifier_key
from tests import factories as f
from tests.cli.conftest import Append
from tests.conftest import Exec


@pytest.fixture
def sealed_log(store: str, master_key: Path, append: Append) -> str:
    """Three subjects appended in three calls: seven events, each call sealed."""
    assert master_key.with_name("l.signing.key").exists()
    for i in range(3):
        answer = append(f.subject_registered(f"C-{i}"), f.objection(f"C-{i}"))
        assert answer["checkpoint"]["size"] == 3 + 2 * i  # every append call seals
    return store


def test_verify_reports_ok_with_the_latest_checkpoint(sealed_log: str) -> None:
    code, out, err = run_captured(["verify", "--store", sealed_log])
    assert (code, err) == (0, "")  # no progress bar: stderr is not a terminal
    report = orjson.loads(out)
    assert (report["ok"], report["events"], report["checkpoint"]["size"]) == (True, 7, 7)
    assert report["problems"] == []


def test_verify_uses_the_verifier_key_file_written_beside_the_keys(
    sealed_log: str, master_key: Path
) -> None:
    _, key, _ = run_captured(["public-key", "--store", sealed_log])
    assert master_key.with_name("l.verifier.key").read_text(encoding="utf-8") == key
    _, out, _ = run_captured(["verify", "--store", sealed_log])
    report = orjson.loads(out)
    assert (report["ok"], report["verifier_key_from"], report["verifier_key_warning"]) == (
        True, "configured", None,
    )  # fmt: skip


def test_verify_says_a_key_read_from_the_store_proves_little(
    sealed_log: str, master_key: Path
) -> None:
    master_key.with_name("l.verifier.key").unlink()
    _, out, _ = run_captured(["verify", "--store", sealed_log])
    report = orjson.loads(out)
    assert (report["verifier_key_from"], report["verifier_key_warning"]) == (
        "store", STORE_KEY_WARNING,
    )  # fmt: skip


def test_verify_says_the_key_was_given_or_read_from_a_file(sealed_log: str, tmp_path: Path) -> None:
    _, key, _ = run_captured(["public-key", "--store", sealed_log])
    code, out, _ = run_captured(["verify", "--store", sealed_log, "--public-key", key.strip()])
    assert code == 0
    report = orjson.loads(out)
    assert (report["verifier_key_from"], report["verifier_key_warning"]) == ("given", None)
    (tmp_path / "key.txt").write_text(key, encoding="utf-8")
    args = ["verify", "--store", sealed_log, "--public-key", str(tmp_path / "key.txt")]
    _, out, _ = run_captured(args)
    assert orjson.loads(out)["verifier_key_from"] == "file"


def test_verify_exits_5_and_names_the_position(sealed_log: str, raw: tuple[Exec, str, str]) -> None:
    run, table, pos = raw
    run(f"UPDATE {table} SET topic = 'ConsentGranted' WHERE {pos} = %s", (3,))
    code, out, _ = run_captured(["verify", "--store", sealed_log, "--json"])
    assert code == 5
    found = orjson.loads(out)["problems"]
    assert found[0] == {
        "rule": "altered_event", "field": None, "kind": "altered_event", "position": 3,
        "size": None, "message": "the event at position 3 does not hash to its sealed leaf",
    }  # fmt: skip


def test_a_proof_travels_to_a_verifier_without_the_store(sealed_log: str, tmp_path: Path) -> None:
    code, out, _ = run_captured(["prove", "4", "--store", sealed_log])
    assert code == 0
    (tmp_path / "proof.json").write_text(out, encoding="utf-8")
    _, key, _ = run_captured(["public-key", "--store", sealed_log])
    (tmp_path / "key.txt").write_text(key, encoding="utf-8")
    code, out, _ = run_captured(
        ["verify-proof", str(tmp_path / "proof.json"), "--public-key", str(tmp_path / "key.txt")]
    )
    assert (code, orjson.loads(out)) == (0, {
        "ok": True, "problems": [], "problem_details": [], "verifier_key_from": "file",
        "verifier_key_warning": None,
    })  # fmt: skip
    verifier = [sys.executable, "-m", "ledger.integrity.verifier"]
    standalone = subprocess.run(
        [*verifier, str(tmp_path / "proof.json"), "--key", key.strip()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (standalone.returncode, standalone.stdout) == (0, "OK: proof\n")
    code, out, _ = run_captured(["prove", "--consistency", "3", "--store", sealed_log])
    (tmp_path / "consistency.json").write_text(out, encoding="utf-8")
    code, _, _ = run_captured(
        ["verify-proof", str(tmp_path / "consistency.json"), "--public-key", key.strip()]
    )
    assert code == 0


def test_proofs_against_a_checkpoint_the_auditor_holds_verify_against_it(
    sealed_log: str, tmp_path: Path
) -> None:
    _, key, _ = run_captured(["public-key", "--store", sealed_log])
    code, out, _ = run_captured(["prove", "2", "--size", "5", "--store", sealed_log])
    assert code == 0
    assert (orjson.loads(out)["tree_size"], orjson.loads(out)["checkpoint"].split("\n")[1]) == (
        5, "5",
    )  # fmt: skip
    (tmp_path / "inclusion.json").write_text(out, encoding="utf-8")
    code, out, _ = run_captured(
        ["prove", "--consistency", "3", "--size", "5", "--store", sealed_log]
    )
    assert code == 0
    assert orjson.loads(out)["new_checkpoint"].split("\n")[1] == "5"
    (tmp_path / "consistency.json").write_text(out, encoding="utf-8")
    for name in ("inclusion.json", "consistency.json"):
        code, _, _ = run_captured(
            ["verify-proof", str(tmp_path / name), "--public-key", key.strip()]
        )
        assert code == 0
    code, _, err = run_captured(["prove", "2", "--size", "4", "--store", sealed_log])
    assert code != 0
    assert "no checkpoint of size 4; sizes: [1, 3, 5, 7]" in err


def test_a_proof_that_fails_names_its_rule(sealed_log: str, tmp_path: Path) -> None:
    _, out, _ = run_captured(["prove", "4", "--store", sealed_log])
    proof = orjson.loads(out)
    proof["tree_size"] = 6
    (tmp_path / "proof.json").write_bytes(orjson.dumps(proof))
    code, out, _ = run_captured(
        ["verify-proof", str(tmp_path / "proof.json"), "--store", sealed_log]
    )
    message = "the proof is for a tree of 6 events, the checkpoint has 7"
    assert (code, orjson.loads(out)) == (5, {
        "ok": False, "problems": [message],
        "problem_details": [{"rule": "tree_size_mismatch", "field": None, "message": message}],
        "verifier_key_from": "configured", "verifier_key_warning": None,
    })  # fmt: skip


def test_prove_names_what_does_not_exist(sealed_log: str) -> None:
    code, _, err = run_captured(["prove", "99", "--store", sealed_log])
    assert (code, err) == (4, "ledger: no event at position 99\n")
    code, _, err = run_captured(["prove", "--consistency", "2", "--store", sealed_log])
    assert (code, err) == (4, "ledger: no checkpoint of size 2; sizes: [1, 3, 5, 7]\n")


def test_an_exported_log_verifies_from_the_folder_alone(sealed_log: str, tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    code, out, _ = run_captured(["export-log", str(folder), "--store", sealed_log])
    assert (code, orjson.loads(out)["events"]) == (0, 7)
    key = (folder / "verifier-key.txt").read_text(encoding="utf-8").strip()
    code, out, _ = run_captured(["verify", "--export", str(folder), "--public-key", key])
    assert (code, orjson.loads(out)) == (0, {
        "ok": True, "events": 7, "checkpoints": 4, "problems": [], "problem_details": [],
        "verifier_key_from": "given", "verifier_key_warning": None,
    })  # fmt: skip
    code, _, err = run_captured(["export-log", str(folder), "--store", sealed_log])
    assert (code, err) == (2, f"ledger: {folder} is not empty; export into a new folder\n")


def test_an_altered_export_names_the_checkpoint_rule(sealed_log: str, tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    run_captured(["export-log", str(folder), "--store", sealed_log])
    events = (folder / "events.ndjson").read_text(encoding="utf-8").splitlines()
    (folder / "events.ndjson").write_text("\n".join(events[:-1]) + "\n", encoding="utf-8")
    key = str(folder / "verifier-key.txt")
    code, out, _ = run_captured(["verify", "--export", str(folder), "--public-key", key])
    report = orjson.loads(out)
    assert (code, report["verifier_key_from"]) == (5, "file")
    assert [p["rule"] for p in report["problem_details"]] == ["truncated_log"]
    assert [p["message"] for p in report["problem_details"]] == report["problems"]


def _other_key(key: str) -> str:
    origin = key.split("+", 1)[0]
    return verifier_key(origin, generate_signing_key().public_key())


@pytest.mark.parametrize(
    ("spoil", "rule"),
    [
        (lambda p: p | {"format": "consent-ledger/other/1"}, "wrong_proof_format"),
        (lambda p: {k: v for k, v in p.items() if k != "audit_path"}, "malformed_proof"),
        (lambda p: p | {"leaf_index": 0}, "not_included"),
        (lambda p: p | {"tree_size": 6}, "tree_size_mismatch"),
        (lambda p: p | {"checkpoint": p["checkpoint"].replace("\n7\n", "\n8\n")},
         "bad_checkpoint_signature"),
    ],
    ids=["format", "malformed", "index", "size", "signature"],
)  # fmt: skip
def test_each_way_a_proof_fails_has_its_rule(
    sealed_log: str, tmp_path: Path, spoil: Callable[[dict[str, Any]], dict[str, Any]], rule: str
) -> None:
    _, out, _ = run_captured(["prove", "4", "--store", sealed_log])
    (tmp_path / "proof.json").write_bytes(orjson.dumps(spoil(orjson.loads(out))))
    code, out, _ = run_captured(
        ["verify-proof", str(tmp_path / "proof.json"), "--store", sealed_log]
    )
    assert (code, [p["rule"] for p in orjson.loads(out)["problem_details"]]) == (5, [rule])


def test_a_proof_under_another_key_fails_its_signature(sealed_log: str, tmp_path: Path) -> None:
    _, out, _ = run_captured(["prove", "4", "--store", sealed_log])
    (tmp_path / "proof.json").write_text(out, encoding="utf-8")
    _, key, _ = run_captured(["public-key", "--store", sealed_log])
    args = ["verify-proof", str(tmp_path / "proof.json"), "--public-key", _other_key(key.strip())]
    code, out, _ = run_captured(args)
    answer = orjson.loads(out)
    assert (code, answer["verifier_key_from"]) == (5, "given")
    assert [p["rule"] for p in answer["problem_details"]] == ["bad_checkpoint_signature"]


def test_an_export_out_of_order_or_altered_names_its_rules(sealed_log: str, tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    run_captured(["export-log", str(folder), "--store", sealed_log])
    events = (folder / "events.ndjson").read_text(encoding="utf-8").splitlines()
    events[1], events[2] = events[2], events[1]
    (folder / "events.ndjson").write_text("\n".join(events) + "\n", encoding="utf-8")
    key = str(folder / "verifier-key.txt")
    code, out, _ = run_captured(["verify", "--export", str(folder), "--public-key", key])
    rules = {p["rule"] for p in orjson.loads(out)["problem_details"]}
    assert (code, rules) == (5, {"events_out_of_order", "checkpoint_root_mismatch"})
