"""``ledger init``, ``notice`` and ``append`` in-process: outputs, exit codes, refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from ledger.cli import run_captured
from schemas.answers import AppendAnswer, RefusedLine, TrailAnswer
from tests import factories as f
from tests.cli.conftest import Append, ndjson
from tests.conftest import EXAMPLE_REGISTER


def test_append_reads_stdin_and_answers_in_the_contract_shape(store: str) -> None:
    code, out, err = run_captured(
        ["append", "--store", store],
        ndjson(f.subject_registered("C-1001"), f.personal_data("C-1001")),
    )
    assert (code, err) == (0, "")
    answer = AppendAnswer.model_validate_json(out)
    assert (answer.appended, answer.duplicates, answer.findings) == (2, 0, [])
    assert answer.last_position is not None


def test_append_reads_a_file(store: str, tmp_path: Path) -> None:
    path = tmp_path / "batch.ndjson"
    path.write_bytes(ndjson(f.subject_registered("C-1"), f.contract_started("C-1")))
    code, out, _ = run_captured(["append", "--store", store, str(path)])
    assert code == 0
    assert orjson.loads(out)["appended"] == 2


def test_a_refused_batch_exits_3_with_one_json_line_per_problem(store: str) -> None:
    bad = f.personal_data("C-1", {"personal_identity_code": "131052-308U"})
    code, out, err = run_captured(
        ["append", "--store", store],
        ndjson(f.subject_registered("C-1"), bad) + b"{oops\n",
    )
    assert (code, out) == (3, "")
    lines = [RefusedLine.model_validate_json(x) for x in err.splitlines()]
    assert [(x.line, x.type, x.field, x.rule) for x in lines] == [
        (
            2,
            "PersonalDataRecorded",
            "data.fields.personal_identity_code",
            "invalid_personal_identity_code",
        ),
        (3, None, None, "invalid_json"),
    ]
    assert "131052" not in err
    code, _, err = run_captured(["trail", "--store", store, "C-1"])
    assert (code, err) == (4, "ledger: no subject is registered under reference 'C-1'\n")


def test_batch_size_reports_exactly_where_it_stopped(store: str) -> None:
    lines = [f.subject_registered(f"C-{i}", idempotency_key=f"r{i}") for i in range(1, 6)]
    lines[3]["occurred_at"] = "2023-01-01T00:00:00"
    code, out, err = run_captured(["append", "--store", store, "--batch-size", "2"], ndjson(*lines))
    assert code == 3
    answer = AppendAnswer.model_validate_json(out)
    assert (answer.appended, answer.committed_lines, answer.stopped_at_line) == (2, 2, 3)
    assert orjson.loads(err.splitlines()[0])["rule"] == "timestamp_without_offset"
    lines[3]["occurred_at"] = "2023-01-01T00:00:00Z"
    code, out, _ = run_captured(["append", "--store", store, "--batch-size", "2"], ndjson(*lines))
    assert code == 0
    assert (orjson.loads(out)["appended"], orjson.loads(out)["duplicates"]) == (3, 2)


def test_trail_lists_every_event_of_the_subject(store: str, append: Append) -> None:
    append(
        f.subject_registered("C-7"), f.personal_data("C-7", actor="web-portal"), f.objection("C-7")
    )
    code, out, _ = run_captured(["trail", "--store", store, "C-7", "--json"])
    assert code == 0
    trail = TrailAnswer.model_validate_json(out)
    assert [(e.type, e.actor, e.source) for e in trail.events] == [
        ("SubjectRegistered", "crm", None),
        ("PersonalDataRecorded", "web-portal", "data_subject"),
        ("ObjectionRecorded", "crm", None),
    ]
    positions = [e.position for e in trail.events]
    assert positions == sorted(positions)
    code, table, _ = run_captured(["trail", "--store", store, "C-7"])
    assert table.splitlines()[0].split() == [
        "position", "type", "occurred_at", "recorded_at", "actor", "source",
    ]  # fmt: skip
    assert "Aino" not in table
    assert len(table.splitlines()) == 4


def test_init_on_an_initialised_store_exits_2_and_changes_nothing(store: str) -> None:
    code, out, err = run_captured(["init", "--store", store, "--register", str(EXAMPLE_REGISTER)])
    assert (code, out) == (2, "")
    assert err == f"ledger: {store} is already initialised; nothing was changed\n"
    _, out, _ = run_captured(["notice", "list", "--store", store, "--json"])
    assert [n["version"] for n in orjson.loads(out)] == ["2021-06-03"]


def test_notice_publish_adds_a_version(store: str, tmp_path: Path) -> None:
    text = EXAMPLE_REGISTER.read_text(encoding="utf-8").replace(
        'version = "2021-06-03"', 'version = "2024-01"'
    )
    path = tmp_path / "v2.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_captured(
        ["notice", "publish", str(path), "--store", store,
         "--effective-from", "2024-01-01T00:00:00+02:00"]
    )  # fmt: skip
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    assert (answer["notice_version"], answer["effective_from"]) == (
        "2024-01", "2023-12-31T22:00:00Z",
    )  # fmt: skip
    code, _, err = run_captured(["notice", "publish", str(path), "--store", store])
    assert code == 2
    assert err == "ledger: notice version 2024-01 is already published\n"


def test_notice_list_prints_one_time_format(store: str) -> None:
    code, out, _ = run_captured(["notice", "list", "--store", store])
    assert code == 0
    assert out.splitlines()[1].split()[:2] == ["2021-06-03", "2021-06-02T21:00:00Z"]
    code, out, _ = run_captured(["notice", "list", "--store", store, "--json"])
    assert orjson.loads(out)[0]["effective_from"] == "2021-06-02T21:00:00Z"


def test_a_broken_register_file_is_refused_naming_the_field(store: str, tmp_path: Path) -> None:
    text = EXAMPLE_REGISTER.read_text(encoding="utf-8").replace('"0209628-8"', '"0209628-7"', 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_captured(["notice", "publish", str(path), "--store", store])
    assert code == 3
    first = orjson.loads(err.splitlines()[0])
    assert (first["field"], first["rule"]) == (
        "controllers.0.business_id",
        "invalid_business_id",
    )


def test_the_installed_command_runs_as_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "LEDGER_STORE": f"sqlite:///{tmp_path}/l.db"}
    run = [sys.executable, "-m", "ledger.cli"]
    done = subprocess.run(
        [*run, "init", "--register", str(EXAMPLE_REGISTER)],
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "l.db.master.key").exists()
    done = subprocess.run(
        [*run, "append"],
        input=ndjson(f.subject_registered("C-1")),
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["appended"] == 1
