"""erase, export, retention and keys rotate-master from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ledger.cli import run_captured
from schemas.answers import ErasureAnswer
from tests import factories as f
from tests.cli.conftest import Append


@pytest.fixture
def customer(store: str, append: Append) -> str:
    """C-1 with basic data and a cookie id, no contract: everything may be erased."""
    append(
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck"}, category="cookies", source="cookies",
                        occurred_at="2021-07-01T00:00:00Z"),
    )  # fmt: skip
    return store


def test_erase_reports_what_went_and_seals(customer: str) -> None:
    code, out, err = run_captured(["erase", "C-1", "--reason", "request 17", "--store", customer])
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    erasure = ErasureAnswer.model_validate({k: v for k, v in answer.items() if k != "checkpoint"})
    assert (sorted(erasure.erased), erasure.held, erasure.reference_removed) == (
        ["cookies", "customer_basic"], [], True,
    )  # fmt: skip
    assert answer["checkpoint"]["size"] == 5
    code, _, err = run_captured(["subject", "C-1", "--store", customer])
    assert (code, err) == (4, "ledger: no subject is registered under reference 'C-1'\n")
    code, out, _ = run_captured(["verify", "--store", customer])
    assert (code, orjson.loads(out)["ok"]) == (0, True)


def test_retention_lists_what_is_due_in_one_time_format(customer: str) -> None:
    code, out, _ = run_captured(["retention", "--at", "2030-01-01T00:00:00Z", "--store", customer])
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["subject", "category", "status", "until", "legal_reference", "reason"]
    assert {tuple(r.split()[:4]) for r in rows} == {
        ("C-1", "customer_basic", "due", "2025-01-01T00:00:00Z"),
        ("C-1", "cookies", "due", "2022-08-01T00:00:00Z"),
    }
    code, out, _ = run_captured(
        ["retention", "--at", "2030-01-01T00:00:00Z", "--store", customer, "--json"]
    )
    assert orjson.loads(out)["at"] == "2030-01-01T00:00:00Z"


def test_export_writes_json_and_html(customer: str, tmp_path: Path) -> None:
    code, out, _ = run_captured(["export", "C-1", "--store", customer])
    document = orjson.loads(out)
    assert (code, document["subject"]) == (0, "C-1")
    assert {h["occurred_at"] for h in document["history"]} == {"2021-07-01T00:00:00Z"}
    page = tmp_path / "access.html"
    args = ["export", "C-1", "--format", "html", "--output", str(page), "--store", customer]
    code, _, _ = run_captured(args)
    assert code == 0
    assert "<h2>Your data</h2>" in page.read_text(encoding="utf-8")


def test_rotate_master_then_the_data_still_reads(customer: str, master_key: Path) -> None:
    before = master_key.read_text()
    code, out, _ = run_captured(["keys", "rotate-master", "--store", customer])
    assert (code, orjson.loads(out)["rewrapped_keys"]) == (0, 2)
    assert master_key.read_text() != before
    code, out, _ = run_captured(["subject", "C-1", "--json", "--store", customer])
    assert orjson.loads(out)["fields"]["customer_basic"]["name"]["value"] == "Aino Virtanen"


def test_a_lost_master_key_is_a_clear_error_not_a_crash(customer: str, master_key: Path) -> None:
    master_key.unlink()
    code, _, err = run_captured(["subject", "C-1", "--store", customer])
    assert code == 2
    assert err.startswith(f"ledger: the master key file {master_key} does not exist")
