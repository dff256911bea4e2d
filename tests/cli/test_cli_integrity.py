"""seal, verify, prove, verify-proof, export-log and public-key from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from ledger.cli import run_captured
from tests import factories as f
from tests.conftest import EXAMPLE_REGISTER, Exec


@pytest.fixture
def store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(tmp_path / "keys" / "l.master.key"))
    url = store_url
    code, out, _ = run_captured(["init", "--store", url, "--register", str(EXAMPLE_REGISTER)])
    assert code == 0
    assert orjson.loads(out)["checkpoint"]["size"] == 1
    assert (tmp_path / "keys" / "l.signing.key").exists()
    for i in range(3):
        lines = b"".join(
            orjson.dumps(x) + b"\n" for x in (f.subject_registered(f"C-{i}"), f.objection(f"C-{i}"))
        )
        code, out, _ = run_captured(["append", "--store", url], lines)
        assert orjson.loads(out)["checkpoint"]["size"] == 3 + 2 * i  # every append call seals
    return url


def test_verify_reports_ok_with_the_latest_checkpoint(store: str) -> None:
    code, out, err = run_captured(["verify", "--store", store])
    assert code == 0
    report = orjson.loads(out)
    assert (report["ok"], report["events"], report["checkpoint"]["size"]) == (True, 7, 7)
    assert report["problems"] == []
    assert "verify [" in err


def test_verify_exits_5_and_names_the_position(store: str, raw: tuple[Exec, str, str]) -> None:
    run, table, pos = raw
    run(f"UPDATE {table} SET topic = 'ConsentGranted' WHERE {pos} = %s", (3,))
    code, out, _ = run_captured(["verify", "--store", store])
    assert code == 5
    found = orjson.loads(out)["problems"]
    assert found[0] == {
        "kind": "altered_event", "position": 3, "size": None,
        "message": "the event at position 3 does not hash to its sealed leaf",
    }  # fmt: skip


def test_a_proof_travels_to_a_verifier_without_the_store(store: str, tmp_path: Path) -> None:
    code, out, _ = run_captured(["prove", "4", "--store", store])
    assert code == 0
    (tmp_path / "proof.json").write_text(out, encoding="utf-8")
    _, key, _ = run_captured(["public-key", "--store", store])
    (tmp_path / "key.txt").write_text(key, encoding="utf-8")
    code, out, _ = run_captured(
        ["verify-proof", str(tmp_path / "proof.json"), "--public-key", str(tmp_path / "key.txt")]
    )
    assert (code, orjson.loads(out)) == (0, {"ok": True, "problems": []})
    verifier = [sys.executable, "-m", "ledger.integrity.verifier"]
    standalone = subprocess.run(
        [*verifier, str(tmp_path / "proof.json"), "--key", key.strip()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (standalone.returncode, standalone.stdout) == (0, "OK: proof\n")
    code, out, _ = run_captured(["prove", "--consistency", "3", "--store", store])
    (tmp_path / "consistency.json").write_text(out, encoding="utf-8")
    code, _, _ = run_captured(
        ["verify-proof", str(tmp_path / "consistency.json"), "--public-key", key.strip()]
    )
    assert code == 0


def test_prove_names_what_does_not_exist(store: str) -> None:
    assert run_captured(["prove", "99", "--store", store])[0] == 4
    code, _, err = run_captured(["prove", "--consistency", "2", "--store", store])
    assert code == 4
    assert "no checkpoint of size 2" in err


def test_an_exported_log_verifies_from_the_folder_alone(store: str, tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    code, out, _ = run_captured(["export-log", str(folder), "--store", store])
    assert (code, orjson.loads(out)["events"]) == (0, 7)
    key = (folder / "verifier-key.txt").read_text(encoding="utf-8").strip()
    code, out, _ = run_captured(["verify", "--export", str(folder), "--public-key", key])
    assert (code, orjson.loads(out)["ok"]) == (0, True)
    assert run_captured(["export-log", str(folder), "--store", store])[0] == 2  # not empty
