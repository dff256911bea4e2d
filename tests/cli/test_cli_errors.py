"""Errors exactly as the command line prints them: ``ledger: ...``, or JSON under --json."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import orjson
import pytest

from ledger.cli import run_captured
from tests import factories as f
from tests.cli.conftest import Append, ndjson
from tests.conftest import EXAMPLE_REGISTER, postgres_url_or_skip


@pytest.fixture(autouse=True)
def _eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps usage to the terminal's width


def test_a_bad_instant_prints_the_usage_and_the_argument() -> None:
    code, out, err = run_captured(["basis", "C-1", "marketing", "--at", "2022-01-01"])
    assert (code, out) == (2, "")
    assert err == (
        "usage: ledger basis [-h] [--store URL] [--key-file FILE] [--json] [--at TIME]\n"
        "                    [--known-at TIME] [--timeline] [--controller BUSINESS_ID]\n"
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


# --- issue 11: faults reported honestly -----------------------------------------------


def _free_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_append_whose_sealing_fails_says_it_was_written_and_not_sealed(
    store: str, master_key: Path
) -> None:
    signing = master_key.with_name("l.signing.key")
    hidden = signing.rename(signing.with_name("elsewhere"))
    code, out, err = run_captured(["append", "--store", store], ndjson(f.subject_registered("C-1")))
    assert code == 6
    answer = orjson.loads(out)
    assert (answer["appended"], answer["checkpoint"]) == (1, None)
    assert answer["last_position"] is not None
    problem = answer["sealing_problem"]
    assert problem["rule"] == "not_sealed"
    assert problem["message"].startswith(
        f"what this call committed is stored, but sealing it failed: the signing key file"
        f" {signing} does not exist"
    )
    assert problem["message"].endswith(
        "do not write it again: fix the cause, then run `ledger seal`"
    )
    assert err == f"ledger: {problem['message']}\n"
    code, out, _ = run_captured(["trail", "C-1", "--store", store, "--json"])
    assert (code, len(orjson.loads(out)["events"])) == (0, 1)  # it was written, once

    code, _, err = run_captured(
        ["append", "--store", store, "--json", "--batch-size", "1"],
        ndjson(f.personal_data("C-1"), f.personal_data("C-1", {"name": "B"})),
    )
    assert code == 6
    assert orjson.loads(err)["rule"] == "not_sealed"

    hidden.rename(signing)
    code, out, err = run_captured(["seal", "--store", store])
    assert (code, err) == (0, "")
    assert orjson.loads(out)["size"] == 4  # the notice and the three events


def test_an_erasure_whose_sealing_fails_still_reports_what_was_erased(
    store: str, append: Append, master_key: Path
) -> None:
    old = "2021-07-01T00:00:00Z"  # the hold on basic data has ended: it may go
    append(f.subject_registered("C-1", occurred_at=old), f.personal_data("C-1", occurred_at=old))
    master_key.with_name("l.signing.key").unlink()
    code, out, err = run_captured(["erase", "C-1", "--reason", "r-1", "--store", store, "--json"])
    assert code == 6
    answer = orjson.loads(out)
    assert (answer["erased"], answer["reference_removed"]) == (["customer_basic"], True)
    assert answer["checkpoint"] is None
    assert orjson.loads(err)["rule"] == "not_sealed"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:s3cret-pw@127.0.0.1/",
        "postgresql://u:s3cret-pw@127.0.0.1:notaport/db",
        "mysql://u:s3cret-pw@x/y",
        "postgresql://u:s3cret-pw@127.0.0.1/db?sslmode=off",
    ],
)
def test_a_bad_store_url_never_prints_its_password(url: str) -> None:
    for extra in ([], ["--json"]):
        code, out, err = run_captured(["trail", "C-1", "--store", url, *extra])
        assert (code, out) == (2, "")
        assert "s3cret-pw" not in err
        assert "u:***@" in err or "sslmode" in err
        assert err.count("\n") == 1


def test_an_unreachable_postgresql_is_one_line_fast_and_without_its_password() -> None:
    url = f"postgresql://u:s3cret-pw@127.0.0.1:{_free_port()}/db"
    started = time.monotonic()
    code, out, err = run_captured(["trail", "C-1", "--store", url, "--json"])
    assert time.monotonic() - started < 5
    assert (code, out) == (8, "")
    problem = orjson.loads(err)
    assert problem["rule"] == "store_unavailable"
    assert problem["message"].startswith(
        f"cannot reach PostgreSQL at postgresql://u:***@127.0.0.1:{url.split(':')[3]}"
    )
    assert "s3cret-pw" not in err
    code, _, err = run_captured(["init", "--store", url, "--register", str(EXAMPLE_REGISTER)])
    assert code == 8
    assert err.startswith("ledger: cannot reach PostgreSQL at postgresql://u:***@")
    assert err.count("\n") == 1


def test_a_postgresql_password_stays_out_of_every_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_url_or_skip().replace(
        "postgresql://postgres@", "postgresql://postgres:pw%2Fs3cret@"
    )
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(tmp_path / "m.key"))
    outputs = [run_captured(["trail", "C-1", "--store", url])]  # not a ledger yet
    outputs.append(run_captured(["init", "--store", url, "--register", str(EXAMPLE_REGISTER)]))
    outputs.append(run_captured(["init", "--store", url, "--register", str(EXAMPLE_REGISTER)]))
    assert [code for code, _, _ in outputs] == [2, 0, 2]
    for _, out, err in outputs:
        assert "s3cret" not in out + err
    assert orjson.loads(outputs[1][1])["store"].startswith("postgresql://postgres:***@")


@pytest.mark.parametrize("schema", ["pg_catalog", "information_schema", "PG_TOAST"])
def test_a_postgresql_system_schema_is_refused_as_a_store(schema: str) -> None:
    url = f"postgresql://postgres@127.0.0.1/test?schema={schema}"
    code, out, err = run_captured(["init", "--store", url, "--register", str(EXAMPLE_REGISTER)])
    assert (code, out) == (2, "")
    assert err == f"ledger: schema {schema!r} is PostgreSQL's own: choose another (e.g. ledger)\n"
