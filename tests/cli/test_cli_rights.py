"""erase, export and keys rotate-master from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ledger.cli import run_captured
from schemas.answers import ErasureAnswer
from tests import factories as f
from tests.conftest import EXAMPLE_REGISTER


@pytest.fixture
def store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(tmp_path / "l.master.key"))
    url = store_url
    assert run_captured(["init", "--store", url, "--register", str(EXAMPLE_REGISTER)])[0] == 0
    lines = [
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck"}, category="cookies", source="cookies",
                        occurred_at="2021-07-01T00:00:00Z"),
    ]  # fmt: skip
    payload = b"".join(orjson.dumps(x) + b"\n" for x in lines)
    assert run_captured(["append", "--store", url], payload)[0] == 0
    return url


def test_erase_reports_what_went_and_seals(store: str) -> None:
    code, out, err = run_captured(["erase", "C-1", "--reason", "request 17", "--store", store])
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    erasure = ErasureAnswer.model_validate({k: v for k, v in answer.items() if k != "checkpoint"})
    assert (sorted(erasure.erased), erasure.held, erasure.reference_removed) == (
        ["cookies", "customer_basic"], [], True,
    )  # fmt: skip
    assert answer["checkpoint"]["size"] == 5
    code, _, err = run_captured(["subject", "C-1", "--store", store])
    assert code == 4
    code, out, _ = run_captured(["verify", "--store", store])
    assert (code, orjson.loads(out)["ok"]) == (0, True)


def test_export_writes_json_and_html(store: str, tmp_path: Path) -> None:
    code, out, _ = run_captured(["export", "C-1", "--store", store])
    assert (code, orjson.loads(out)["subject"]) == (0, "C-1")
    page = tmp_path / "access.html"
    args = ["export", "C-1", "--format", "html", "--output", str(page), "--store", store]
    code, _, _ = run_captured(args)
    assert code == 0
    assert "<h2>Your data</h2>" in page.read_text(encoding="utf-8")


def test_rotate_master_then_the_data_still_reads(store: str, tmp_path: Path) -> None:
    before = (tmp_path / "l.master.key").read_text()
    code, out, _ = run_captured(["keys", "rotate-master", "--store", store])
    assert (code, orjson.loads(out)["rewrapped_keys"]) == (0, 2)
    assert (tmp_path / "l.master.key").read_text() != before
    code, out, _ = run_captured(["subject", "C-1", "--json", "--store", store])
    assert orjson.loads(out)["fields"]["customer_basic"]["name"]["value"] == "Aino Virtanen"


def test_a_lost_master_key_is_a_clear_error_not_a_crash(store: str, tmp_path: Path) -> None:
    (tmp_path / "l.master.key").unlink()
    code, _, err = run_captured(["subject", "C-1", "--store", store])
    assert code == 2
    assert err.startswith("ledger: the master key file")
    assert "does not exist" in err
