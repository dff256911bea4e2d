"""The command line as a new user meets it: where options go, --json, progress, help."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import orjson
import pytest

from ledger.cli import command_parsers, main, run_captured
from tests import factories as f
from tests.cli.conftest import Append, ndjson
from tests.conftest import EXAMPLE_REGISTER


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current folder and no LEDGER_STORE: the default store would be new."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("LEDGER_STORE", raising=False)
    return folder


@pytest.fixture
def customer(store: str, append: Append) -> str:
    """C-1 with personal data, a consent and a disclosure (and its findings)."""
    append(
        f.subject_registered("C-1"),
        f.personal_data("C-1"),
        f.consent_granted("C-1"),
        f.disclosed("C-1"),
    )
    return store


def test_store_before_the_command_is_the_store_used(store: str, elsewhere: Path) -> None:
    code, out, err = run_captured(
        ["--store", store, "append", "-"], ndjson(f.subject_registered("C-1"))
    )
    assert (code, err) == (0, "")
    assert orjson.loads(out)["appended"] == 1
    code, out, _ = run_captured(["--store", store, "trail", "C-1", "--json"])
    assert (code, [e["type"] for e in orjson.loads(out)["events"]]) == (0, ["SubjectRegistered"])
    assert list(elsewhere.iterdir()) == []


def test_store_after_the_command_wins_over_the_one_before(store: str, elsewhere: Path) -> None:
    other = f"sqlite:///{elsewhere / 'other.db'}"
    code, _, err = run_captured(
        ["--store", other, "append", "--store", store], ndjson(f.subject_registered("C-1"))
    )
    assert (code, err) == (0, "")
    code, _, err = run_captured(["--store", other, "trail", "C-1", "--store", store])
    assert (code, err) == (0, "")
    assert list(elsewhere.iterdir()) == []


def test_key_file_before_the_command_is_the_key_used(
    store_url: str, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGER_MASTER_KEY_FILE", raising=False)
    monkeypatch.delenv("LEDGER_MASTER_KEY", raising=False)
    key = elsewhere.parent / "vault" / "ledger.master.key"
    given = ["--store", store_url, "--key-file", str(key)]
    code, _, err = run_captured([*given, "init", "--register", str(EXAMPLE_REGISTER)])
    assert (code, err) == (0, "")
    assert key.exists()
    lines = ndjson(f.subject_registered("C-1"), f.personal_data("C-1"))
    assert run_captured([*given, "append"], lines)[0] == 0
    code, out, _ = run_captured([*given, "subject", "C-1", "--json"])
    assert orjson.loads(out)["fields"]["customer_basic"]["name"]["value"] == "Aino Virtanen"


def test_every_command_accepts_json_and_every_option_has_help() -> None:
    for name, parser in command_parsers():
        options = {o for a in parser._actions for o in a.option_strings}
        assert {"--json", "--store", "--key-file"} <= options, name
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                assert action.help, f"{name}: {action.dest} has no help"


@pytest.mark.parametrize(
    "argv",
    [
        ["seal"], ["verify"], ["erase", "C-1", "--reason", "request 17"], ["prove", "2"],
        ["public-key"], ["rebuild"], ["replay", "--compare"], ["project"], ["notice", "list"],
        ["trail", "C-1"], ["subject", "C-1"], ["basis", "C-1", "marketing"],
        ["check", "C-1", "marketing"], ["findings"], ["lineage", "C-1"], ["disclosures"],
        ["retention"], ["export", "C-1"], ["keys", "rotate-master"], ["append"],
    ],
    ids=" ".join,
)  # fmt: skip
def test_a_command_given_json_prints_one_json_document(customer: str, argv: list[str]) -> None:
    code, out, err = run_captured([*argv, "--store", customer, "--json"])
    assert (code, err) == (0, "")
    assert isinstance(orjson.loads(out), dict | list)


def test_json_before_the_command_counts_too(customer: str) -> None:
    code, out, _ = run_captured(["--json", "trail", "C-1", "--store", customer])
    assert (code, orjson.loads(out)["subject"]) == (0, "C-1")


def test_the_demo_with_json_narrates_on_stderr_and_summarises_on_stdout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, err = run_captured(["demo", "--store", url, "--subjects", "3", "--json"])
    assert code == 0
    summary = orjson.loads(out)
    assert (summary["store"], summary["subjects"]) == (url, 3)
    assert summary["checkpoint"]["size"] > summary["appended"]
    assert err.startswith(f"initialised {url} with notice 2021-06-03\n")


def test_times_in_one_document_share_one_format(customer: str) -> None:
    code, out, _ = run_captured(["lineage", "C-1", "--store", customer, "--json"])
    assert code == 0
    datum = orjson.loads(out)["data"][0]
    times = [datum["changes"][0]["occurred_at"], datum["received_by"][0]["occurred_at"]]
    assert times == ["2023-05-04T07:00:00Z", "2023-05-04T07:00:00Z"]
    code, out, _ = run_captured(["export", "C-1", "--store", customer])
    document = orjson.loads(out)
    assert document["register"]["notice_effective_from"] == "2021-06-02T21:00:00Z"
    assert document["generated_at"].endswith("Z")
    assert {h["occurred_at"] for h in document["history"]} == {"2023-05-04T07:00:00Z"}


def test_human_tables_show_no_fractions_of_a_second(customer: str) -> None:
    for argv in (["trail", "C-1"], ["findings"], ["disclosures"]):
        code, out, _ = run_captured([*argv, "--store", customer])
        assert code == 0
        header, *rows = out.splitlines()
        end = header.index("message") if "message" in header else None  # not in messages
        cells = "\n".join(line[:end] for line in rows)
        assert cells, argv
        assert re.search(r"T\d\d:\d\d:\d\d(?!Z(\s|$))", cells) is None, argv


def test_check_gives_its_problems_in_the_one_problem_shape(customer: str) -> None:
    argv = ["check", "C-1", "marketing", "--recipient", "print-house",
            "--categories", "billing,customer_basic", "--store", customer, "--json"]  # fmt: skip
    code, out, _ = run_captured(argv)
    answer = orjson.loads(out)
    assert (code, answer["allowed"]) == (0, False)
    assert answer["problem_details"] == [
        {"rule": "disclosure_outside_agreement", "field": "purpose",
         "message": "recipient 'print-house' does not take part in 'marketing'"},
        {"rule": "no_data_in_category", "field": "categories",
         "message": "the subject has no 'billing' data"},
    ]  # fmt: skip
    assert [p["message"] for p in answer["problem_details"]] == answer["problems"]
    code, _, err = run_captured(
        ["check", "C-1", "profiling", "--recipient", "nobody", "--store", customer, "--json"]
    )
    assert (code, orjson.loads(err)["rule"]) == (4, "unknown_recipient")


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_shows_only_on_a_terminal(customer: str) -> None:
    assert run_captured(["rebuild", "--store", customer])[2] == ""
    out, err = io.StringIO(), Terminal()
    assert main(["rebuild", "--store", customer], io.BytesIO(), out, err) == 0
    assert "rebuild [" in err.getvalue()
    assert err.getvalue().endswith("\n")


def test_help_is_written_for_users() -> None:
    code, out, err = run_captured(["--help"])
    assert (code, err) == (0, "")
    assert out.startswith("usage: ledger [-h] [--store URL] [--key-file FILE] [--json] COMMAND ...")
    assert "Record what is done with customers' personal data" in out
    for heading in ("commands by what they do:", "environment:", "exit codes:"):
        assert heading in out
    assert "docs/reference.md" in out
    assert "argparse" not in out
    code, out, _ = run_captured(["verify", "--help"])
    assert "--public-key KEY|FILE" in out
