"""Errors exactly as the command line prints them: ``ledger: ...``, or JSON under --json."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.cli import run_captured
from tests import factories as f
from tests.cli.conftest import Append


@pytest.fixture(autouse=True)
def _eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps usage to the terminal's width


def test_a_bad_instant_prints_the_usage_and_the_argument() -> None:
    code, out, err = run_captured(["basis", "C-1", "marketing", "--at", "2022-01-01"])
    assert (code, out) == (2, "")
    assert err == (
        "usage: ledger basis [-h] [--store URL] [--key-file FILE] [--json] [--at TIME]\n"
        "                    [--known-at TIME] [--timeline]\n"
        "                    subject purpose\n"
        "ledger basis: error: argument --at: not an RFC 3339 timestamp with an offset:"
        " '2022-01-01'\n"
    )


def test_a_bad_instant_under_json_is_one_problem_naming_the_option() -> None:
    code, out, err = run_captured(["basis", "C-1", "marketing", "--at", "2022-01-01", "--json"])
    assert (code, out) == (2, "")
    assert err == (
        '{"rule":"usage_error","field":"--at",'
        '"message":"not an RFC 3339 timestamp with an offset: \'2022-01-01\'"}\n'
    )


def test_a_missing_argument_under_json_names_it() -> None:
    code, _, err = run_captured(["--json", "erase", "C-1"])
    assert (code, err) == (2, (
        '{"rule":"usage_error","field":"--reason",'
        '"message":"the following arguments are required: --reason"}\n'
    ))  # fmt: skip


def test_an_unknown_option_under_json_is_a_usage_error() -> None:
    code, _, err = run_captured(["trail", "C-1", "--colour", "--json"])
    assert (code, err) == (2, (
        '{"rule":"usage_error","field":null,"message":"unrecognized arguments: --colour"}\n'
    ))  # fmt: skip


def test_a_missing_store_says_to_run_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/none.db"
    code, out, err = run_captured(["trail", "--store", url, "C-1"])
    message = f"no ledger at {tmp_path}/none.db: run `ledger init --register FILE` first"
    assert (code, out, err) == (2, "", f"ledger: {message}\n")
    code, out, err = run_captured(["trail", "--store", url, "C-1", "--json"])
    assert (code, out) == (2, "")
    assert err == f'{{"rule":"not_initialised","field":null,"message":"{message}"}}\n'
    assert not (tmp_path / "none.db").exists()


def test_a_bad_store_url_is_a_configuration_error() -> None:
    message = "unsupported store URL (use sqlite:/// or postgresql://): mysql://x/y"
    code, _, err = run_captured(["trail", "--store", "mysql://x/y", "C-1"])
    assert (code, err) == (2, f"ledger: {message}\n")
    code, _, err = run_captured(["--json", "--store", "mysql://x/y", "trail", "C-1"])
    assert (code, err) == (
        2,
        f'{{"rule":"configuration_error","field":null,"message":"{message}"}}\n',
    )


def test_an_unknown_subject_is_not_found_in_both_shapes(store: str) -> None:
    message = "no subject is registered under reference 'C-404'"
    code, out, err = run_captured(["subject", "C-404", "--store", store])
    assert (code, out, err) == (4, "", f"ledger: {message}\n")
    code, out, err = run_captured(["subject", "C-404", "--store", store, "--json"])
    assert (code, out) == (4, "")
    assert err == f'{{"rule":"subject_not_found","field":null,"message":"{message}"}}\n'


def test_a_missing_event_is_not_found_under_json(store: str) -> None:
    code, _, err = run_captured(["prove", "99", "--store", store, "--json"])
    assert (code, err) == (
        4, '{"rule":"not_found","field":null,"message":"no event at position 99"}\n',
    )  # fmt: skip


def test_init_twice_under_json_says_already_initialised(store: str) -> None:
    code, _, err = run_captured(
        ["init", "--register", "examples/register.toml", "--store", store, "--json"]
    )
    message = f"{store} is already initialised; nothing was changed"
    assert (code, err) == (
        2,
        f'{{"rule":"already_initialised","field":null,"message":"{message}"}}\n',
    )


def test_a_lost_master_key_under_json_says_key_unavailable(
    store: str, append: Append, master_key: Path
) -> None:
    append(f.subject_registered("C-1"), f.personal_data("C-1"))
    master_key.unlink()
    code, _, err = run_captured(["subject", "C-1", "--store", store])
    assert code == 2
    assert err.startswith(f"ledger: the master key file {master_key} does not exist")
    code, _, err = run_captured(["subject", "C-1", "--store", store, "--json"])
    assert code == 2
    assert err.startswith(
        f'{{"rule":"key_unavailable","field":null,"message":"the master key file {master_key}'
    )
    assert err.count("\n") == 1


def test_refusals_are_json_lines_with_or_without_json(store: str) -> None:
    line = b'{"type": "Nope", "actor": "crm", "data": {}}\n'
    plain = run_captured(["append", "--store", store], line)
    assert plain == run_captured(["append", "--store", store, "--json"], line)
    code, out, err = plain
    assert (code, out) == (3, "")
    assert err.startswith('{"line":1,"type":"Nope","field":"type","rule":"unknown_type","message":')
