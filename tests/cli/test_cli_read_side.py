"""basis, subject, trail, rebuild and replay from the command line."""

from __future__ import annotations

import orjson
import pytest

from ledger.cli import run_captured
from schemas.answers import BasisAnswer, SubjectAnswer, TrailAnswer
from tests import factories as f
from tests.cli.conftest import Append


@pytest.fixture
def history(store: str, append: Append) -> str:
    """C-1: registered, data, a contract, and a consent to profiling later withdrawn."""
    append(
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
    )
    return store


def test_basis_answers_right_after_an_append_with_evidence(history: str) -> None:
    code, out, err = run_captured(
        ["basis", "C-1", "profiling", "--at", "2022-03-01T00:00:00Z", "--json", "--store", history]
    )
    assert (code, err) == (0, "")
    answer = BasisAnswer.model_validate_json(out)
    assert answer.lawful
    assert [(b.basis, [e.type for e in b.evidence]) for b in answer.bases] == [
        ("consent", ["ConsentGranted", "ConsentWithdrawn"])
    ]
    assert answer.notice_version == "2021-06-03"
    code, out, _ = run_captured(
        ["basis", "C-1", "profiling", "--at", "2022-07-01T03:00:00+03:00", "--store", history]
    )
    assert code == 0
    assert out.startswith("C-1 / profiling at 2022-07-01T00:00:00Z: NOT lawful")


def test_subject_shows_values_and_honours_at_and_known_at(history: str) -> None:
    code, out, _ = run_captured(["subject", "C-1", "--json", "--store", history])
    assert code == 0
    answer = SubjectAnswer.model_validate_json(out)
    assert answer.fields["customer_basic"]["name"].value == "Aino Virtanen"
    code, out, _ = run_captured(
        ["subject", "C-1", "--json", "--at", "2021-06-30T00:00:00Z", "--store", history]
    )
    assert SubjectAnswer.model_validate_json(out).fields == {}
    code, out, _ = run_captured(
        ["subject", "C-1", "--json", "--known-at", "2000-01-01T00:00:00Z", "--store", history]
    )
    assert SubjectAnswer.model_validate_json(out).kind is None


def test_subject_table_shows_times_to_the_second_in_utc(history: str) -> None:
    args = ["subject", "C-1", "--at", "2022-03-01T12:30:00.250+02:00", "--store", history]
    code, out, _ = run_captured(args)
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "as of 2022-03-01T10:30:00Z"
    assert lines[3].split()[-1] == "2021-07-01T00:00:00Z"
    assert (
        lines[-1] == "consent profiling (web_form, notice 2021-06-03): 2022-01-01T00:00:00Z .. open"
    )


def test_trail_comes_from_the_view(history: str) -> None:
    code, out, _ = run_captured(["trail", "C-1", "--json", "--store", history])
    assert code == 0
    assert [e.type for e in TrailAnswer.model_validate_json(out).events] == [
        "SubjectRegistered", "PersonalDataRecorded", "ContractStarted", "ConsentGranted",
        "ConsentWithdrawn",
    ]  # fmt: skip


def test_rebuild_and_replay_report_what_they_did_without_progress(history: str) -> None:
    code, out, err = run_captured(["rebuild", "--store", history])
    assert (code, err) == (0, "")
    assert orjson.loads(out)["events"] == 6
    code, out, err = run_captured(["replay", "--compare", "--store", history])
    assert (code, err) == (0, "")
    assert orjson.loads(out)["identical"] is True
    code, out, err = run_captured(["project", "--store", history])
    assert (code, err) == (0, "")
    assert orjson.loads(out)["applied"] == 0


def test_an_unknown_subject_is_not_found(history: str) -> None:
    code, out, err = run_captured(["basis", "C-404", "marketing", "--store", history])
    assert (code, out, err) == (4, "", "ledger: no subject is registered under reference 'C-404'\n")
