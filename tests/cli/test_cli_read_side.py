"""basis, subject, trail, rebuild and replay from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ledger.cli import run_captured
from schemas.answers import BasisAnswer, SubjectAnswer, TrailAnswer
from tests import factories as f
from tests.conftest import EXAMPLE_REGISTER


@pytest.fixture
def store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(tmp_path / "master.key"))
    assert run_captured(["init", "--store", store_url, "--register", str(EXAMPLE_REGISTER)])[0] == 0
    lines = [
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
    ]
    payload = b"".join(orjson.dumps(x) + b"\n" for x in lines)
    assert run_captured(["append", "--store", store_url], payload)[0] == 0
    return store_url


def test_basis_answers_right_after_an_append_with_evidence(store: str) -> None:
    code, out, err = run_captured(
        ["basis", "C-1", "profiling", "--at", "2022-03-01T00:00:00Z", "--json", "--store", store]
    )
    assert (code, err) == (0, "")
    answer = BasisAnswer.model_validate_json(out)
    assert answer.lawful
    assert [(b.basis, [e.type for e in b.evidence]) for b in answer.bases] == [
        ("consent", ["ConsentGranted", "ConsentWithdrawn"])
    ]
    assert answer.notice_version == "2021-06-03"
    code, out, _ = run_captured(
        ["basis", "C-1", "profiling", "--at", "2022-07-01T00:00:00Z", "--store", store]
    )
    assert code == 0
    assert out.startswith("C-1 / profiling at 2022-07-01T00:00:00+00:00: NOT lawful")


def test_subject_shows_values_and_honours_at_and_known_at(store: str) -> None:
    code, out, _ = run_captured(["subject", "C-1", "--json", "--store", store])
    assert code == 0
    answer = SubjectAnswer.model_validate_json(out)
    assert answer.fields["customer_basic"]["name"].value == "Aino Virtanen"
    code, out, _ = run_captured(
        ["subject", "C-1", "--json", "--at", "2021-06-30T00:00:00Z", "--store", store]
    )
    assert SubjectAnswer.model_validate_json(out).fields == {}
    code, out, _ = run_captured(
        ["subject", "C-1", "--json", "--known-at", "2000-01-01T00:00:00Z", "--store", store]
    )
    assert SubjectAnswer.model_validate_json(out).kind is None


def test_trail_comes_from_the_view(store: str) -> None:
    code, out, _ = run_captured(["trail", "C-1", "--json", "--store", store])
    assert code == 0
    assert [e.type for e in TrailAnswer.model_validate_json(out).events] == [
        "SubjectRegistered", "PersonalDataRecorded", "ContractStarted", "ConsentGranted",
        "ConsentWithdrawn",
    ]  # fmt: skip


def test_rebuild_and_replay_report_what_they_did(store: str) -> None:
    code, out, err = run_captured(["rebuild", "--store", store])
    assert code == 0
    assert orjson.loads(out)["events"] == 6
    assert "rebuild [" in err
    code, out, _ = run_captured(["replay", "--compare", "--store", store])
    assert code == 0
    assert orjson.loads(out)["identical"] is True


def test_an_unknown_subject_is_not_found(store: str) -> None:
    code, _, err = run_captured(["basis", "C-404", "marketing", "--store", store])
    assert code == 4
    assert "C-404" in err


def test_a_bad_instant_is_a_usage_error(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run_captured(["basis", "C-1", "marketing", "--at", "2022-01-01", "--store", store])
    assert code == 2
    assert "not an RFC 3339 timestamp with an offset" in capsys.readouterr().err
