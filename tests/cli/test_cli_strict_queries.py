"""Issue 12: ``basis``, ``check``, ``lineage``, ``disclosures`` naming what the register never knew.

Exit 4 with one error line (one JSON object under ``--json``) naming the rule and
the argument or option, never "NOT lawful" or an empty list with exit 0.
"""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from ledger.cli import run_captured
from tests import factories as f
from tests.cli.conftest import Append


@pytest.fixture
def history(store: str, append: Append) -> str:
    """C-1: registered, data, a contract, one disclosure to the print house."""
    append(
        f.subject_registered("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2022-01-02T00:00:00Z"),
        f.disclosed("C-1", occurred_at="2022-02-01T00:00:00Z"),
    )
    return store


AT = ["--at", "2023-01-01T00:00:00Z"]

UNKNOWN = [
    (["basis", "C-1", "nosuchpurpose", *AT], "unknown_purpose", "purpose", "'nosuchpurpose'"),
    (["check", "C-1", "nosuchpurpose", "--categories", "customer_basic", *AT],
     "unknown_purpose", "purpose", "'nosuchpurpose'"),
    (["check", "C-1", "billing", "--categories", "customer_basic,nosuch", *AT],
     "unknown_category", "--categories", "'nosuch'"),
    (["check", "C-1", "billing", "--recipient", "nosuch", *AT],
     "unknown_recipient", "--recipient", "'nosuch'"),
    (["lineage", "C-1", "--field", "nosuch"], "unknown_data_field", "--field", "'nosuch'"),
    (["disclosures", "--recipient", "nosuch"], "unknown_recipient", "--recipient", "'nosuch'"),
    (["disclosures", "--category", "nosuch"], "unknown_category", "--category", "'nosuch'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "rule", "field", "shown"), UNKNOWN)
def test_an_unknown_name_is_not_found_in_both_shapes(
    history: str, argv: list[str], rule: str, field: str, shown: str
) -> None:
    code, out, err = run_captured([*argv, "--store", history])
    assert (code, out) == (4, "")
    assert err.startswith("ledger: unknown ")
    assert shown in err
    assert err.count("\n") == 1

    code, out, err = run_captured([*argv, "--store", history, "--json"])
    assert (code, out) == (4, "")
    problem = orjson.loads(err)
    assert (problem["rule"], problem["field"]) == (rule, field)
    assert shown in problem["message"]


@pytest.mark.parametrize(
    "argv",
    [
        ["basis", "C-1", "billing", *AT],
        ["check", "C-1", "billing", "--recipient", "print-house", "--categories",
         "customer_basic", *AT],
        ["lineage", "C-1", "--field", "name"],
        ["disclosures", "--recipient", "print-house", "--category", "billing"],
    ],
)  # fmt: skip
def test_known_names_still_answer(history: str, argv: list[str]) -> None:
    code, out, err = run_captured([*argv, "--store", history, "--json"])
    assert (code, err) == (0, "")
    assert orjson.loads(out)


def test_a_known_category_the_subject_has_no_data_in_stays_a_check_problem(history: str) -> None:
    code, out, err = run_captured(
        ["check", "C-1", "billing", "--categories", "cookies", *AT, "--store", history, "--json"]
    )
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    assert answer["allowed"] is False
    assert [p["rule"] for p in answer["problem_details"]] == ["no_data_in_category"]


def test_a_recipient_registered_after_the_instant_asked_is_unregistered_then(
    history: str, append: Append
) -> None:
    append(f.recipient_registered("mailer", occurred_at="2024-01-01T00:00:00Z"))
    code, out, err = run_captured(
        ["check", "C-1", "profiling", "--recipient", "mailer", *AT, "--store", history, "--json"]
    )
    assert (code, err) == (0, "")
    assert [(p["rule"], p["field"]) for p in orjson.loads(out)["problem_details"]] == [
        ("no_lawful_basis", "purpose"), ("disclosure_to_unregistered_recipient", "recipient"),
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["010101-123N", "aino.virtanen@example.fi"])
def test_an_unknown_name_that_could_be_personal_data_is_not_echoed(history: str, name: str) -> None:
    for argv in (
        ["basis", "C-1", name],
        ["check", "C-1", "billing", "--categories", name],
        ["check", "C-1", "billing", "--recipient", name],
        ["lineage", "C-1", "--field", name],
        ["disclosures", "--recipient", name],
    ):
        code, out, err = run_captured([*argv, "--store", history, "--json"])
        assert (code, out) == (4, "")
        assert name not in err
        assert f"<not shown: {len(name)} characters>" in orjson.loads(err)["message"]


def test_an_unknown_purpose_exits_4_from_the_installed_command(history: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "basis", "C-1", "nosuchpurpose", "--store", history],
        env=dict(os.environ),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 4
    assert done.stdout == b""
    assert done.stderr.decode().startswith("ledger: unknown purpose 'nosuchpurpose'")
