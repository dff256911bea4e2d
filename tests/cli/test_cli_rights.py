"""erase, export, retention and keys rotate-master from the command line."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson
import pytest

from ledger.cli import run_captured
from ledger.persistence.store import parse_store_url
from schemas.answers import ErasureAnswer
from tests import factories as f
from tests.cli.conftest import Append

SCHEMAS = Path(__file__).parents[2] / "schemas" / "json"


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
    published = orjson.loads((SCHEMAS / "erasure-answer.schema.json").read_bytes())
    jsonschema.validate(answer, published)  # the whole answer, its checkpoint too
    erasure = ErasureAnswer.model_validate(answer)
    assert (sorted(erasure.erased), erasure.held, erasure.reference_removed) == (
        ["cookies", "customer_basic"], [], True,
    )  # fmt: skip
    assert erasure.checkpoint is not None
    assert erasure.checkpoint.size == answer["checkpoint"]["size"] == 5
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
        ("C-1", "customer_basic", "due", "2024-12-31T22:00:00Z"),  # Helsinki's new year
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


def _ledger_files(store: str, master_key: Path) -> list[Path]:
    """The store's and the keys' files that exist now."""
    keys = sorted(master_key.parent.iterdir())
    config = parse_store_url(store)
    if config.sqlite_path is None:
        return keys
    db = config.sqlite_path
    return [*keys, *(p for p in db.parent.iterdir() if p.name.startswith(db.name))]


def test_export_never_writes_over_the_store_or_its_keys(customer: str, master_key: Path) -> None:
    files = _ledger_files(customer, master_key)
    assert master_key in files
    assert master_key.with_name("l.signing.key") in files
    before = {p: p.read_bytes() for p in files}
    for path in files:
        for force in ([], ["--force"]):
            args = ["export", "C-1", "--output", str(path), "--store", customer, "--json", *force]
            code, out, err = run_captured(args)
            assert (code, out) == (2, ""), path
            problem = orjson.loads(err)
            assert (problem["rule"], problem["field"]) == ("protected_file", "--output")
    assert {p: p.read_bytes() for p in files} == before


def test_export_replaces_an_existing_file_only_with_force(customer: str, tmp_path: Path) -> None:
    target = tmp_path / "access.json"
    target.write_text("keep me", encoding="utf-8")
    args = ["export", "C-1", "--output", str(target), "--store", customer]
    code, out, err = run_captured(args)
    assert (code, out) == (2, "")
    assert err == f"ledger: --output {target} exists: add --force to replace it\n"
    assert target.read_text(encoding="utf-8") == "keep me"
    code, out, err = run_captured([*args, "--force"])
    assert (code, out, err) == (0, "", "")
    assert orjson.loads(target.read_bytes())["subject"] == "C-1"


def test_export_into_a_missing_folder_is_one_line_not_a_traceback(
    customer: str, tmp_path: Path
) -> None:
    target = tmp_path / "nowhere" / "access.json"
    code, out, err = run_captured(["export", "C-1", "--output", str(target), "--store", customer])
    assert (code, out) == (2, "")
    assert err == f"ledger: --output {target}: the folder {target.parent} does not exist\n"
    assert not target.parent.exists()


def test_erasing_an_unknown_category_is_refused_naming_the_option(customer: str) -> None:
    args = ["erase", "C-1", "--reason", "r", "--category", "cookies,nosuch", "--store", customer]
    code, out, err = run_captured([*args, "--json"])
    assert (code, out) == (2, "")
    assert orjson.loads(err) == {
        "rule": "unknown_category",
        "field": "--category",
        "message": "unknown category: nosuch (no notice version defines it)",
    }
    code, out, _ = run_captured(["subject", "C-1", "--json", "--store", customer])
    assert set(orjson.loads(out)["fields"]) == {"customer_basic", "cookies"}  # nothing erased
    code, out, _ = run_captured([*args[:5], "cookies", "--store", customer])
    assert (code, orjson.loads(out)["erased"]) == (0, ["cookies"])


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
