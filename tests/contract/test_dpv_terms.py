"""Every JSON answer carries DPV IRIs beside its ids (issue 15), on both stores."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ledger.cli import run_captured
from schemas import answers, dpv
from tests import factories as f
from tests.cli.conftest import Append

GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"
ID_FIELDS = {"basis", "bases", "type", "safeguard"}
"""Answer fields holding an id with a DPV mapping: each has a ``*_dpv`` sibling."""


def _is_id(prop: dict[str, Any]) -> bool:
    """A string (or list of strings) property, possibly nullable: an id, not an object."""
    options = prop.get("anyOf", [prop])
    return any(
        o.get("type") == "string" or o.get("items", {}).get("type") == "string" for o in options
    )


def _objects(model: type[Any]) -> list[tuple[str, dict[str, Any]]]:
    schema = model.model_json_schema(mode="serialization")
    found = [(model.__name__, schema)]
    found += list(schema.get("$defs", {}).items())
    return found


def _missing_siblings() -> list[str]:
    missing = []
    for model in answers.ANSWERS:
        for name, obj in _objects(model):
            props = obj.get("properties", {})
            for field, prop in props.items():
                if field in ID_FIELDS and _is_id(prop) and f"{field}_dpv" not in props:
                    missing.append(f"{name}.{field}")
    return missing


def test_every_answer_schema_has_a_dpv_sibling_for_each_mapped_id() -> None:
    assert _missing_siblings() == []


def test_the_walk_finds_the_ids_it_looks_for() -> None:
    walked = {
        (name, field)
        for model in answers.ANSWERS
        for name, obj in _objects(model)
        for field, prop in obj.get("properties", {}).items()
        if field in ID_FIELDS and _is_id(prop)
    }
    expected = {("BasisInterval", "basis"), ("TrailEntry", "type"), ("ProcessedBasis", "bases")}
    assert expected <= walked
    assert ("CheckAnswer", "basis") not in walked


def test_lawful_bases_map_to_gdpr_article_6_iris() -> None:
    assert dpv.basis("consent") == f"{GDPR}A6-1-a"
    assert dpv.basis("contract") == f"{GDPR}A6-1-b"
    assert dpv.basis("legal_obligation") == f"{GDPR}A6-1-c"
    assert dpv.basis("legitimate_interests") == f"{GDPR}A6-1-f"
    assert dpv.basis("whim") is None


def test_the_receipts_module_reexports_the_same_iris() -> None:
    from ledger.standards import dpv as receipts_dpv

    assert receipts_dpv.LAWFUL_BASES is dpv.LAWFUL_BASES
    assert receipts_dpv.CONSENT_REVOKED == "https://w3id.org/dpv#ConsentRevoked"


@pytest.fixture
def history(store: str, append: Append) -> str:
    """C-1: a contract that ended, a consent to profiling later withdrawn."""
    append(
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", purpose="profiling", occurred_at="2022-06-01T00:00:00Z"),
        f.contract_ended("C-1", occurred_at="2023-01-01T00:00:00Z"),
    )
    return store


def _json(args: list[str]) -> dict[str, Any]:
    code, out, err = run_captured(args)
    assert (code, err) == (0, ""), err
    answer: dict[str, Any] = orjson.loads(out)
    return answer


def test_basis_answers_carry_the_gdpr_iri_beside_each_basis(history: str) -> None:
    at = ["--at", "2022-03-01T00:00:00Z", "--json", "--store", history]
    consent = _json(["basis", "C-1", "profiling", *at])
    assert [(b["basis"], b["basis_dpv"]) for b in consent["bases"]] == [
        ("consent", f"{GDPR}A6-1-a")
    ]
    assert [e["type_dpv"] for e in consent["bases"][0]["evidence"]] == [
        "https://w3id.org/dpv#ConsentGiven",
        "https://w3id.org/dpv#ConsentWithdrawn",
    ]
    billing = _json(["basis", "C-1", "billing", "--timeline", *at])
    assert {(b["basis"], b["basis_dpv"]) for b in billing["timeline"]} == {
        ("contract", f"{GDPR}A6-1-b"),
        ("legal_obligation", f"{GDPR}A6-1-c"),
    }


def test_subject_answers_carry_basis_and_consent_state_iris(history: str) -> None:
    answer = _json(["subject", "C-1", "--json", "--store", history])
    assert [(c["basis_dpv"], c["state_dpv"]) for c in answer["consents"]] == [
        (f"{GDPR}A6-1-a", "https://w3id.org/dpv#ConsentWithdrawn")
    ]
    assert [c["basis_dpv"] for c in answer["contracts"]] == [f"{GDPR}A6-1-b"]
    at = ["--at", "2022-03-01T00:00:00Z"]
    earlier = _json(["subject", "C-1", "--json", *at, "--store", history])
    assert [c["state_dpv"] for c in earlier["consents"]] == ["https://w3id.org/dpv#ConsentGiven"]
