"""Every JSON answer carries DPV IRIs beside its ids (issue 15), on both stores."""

from __future__ import annotations

from typing import Any, get_args

import orjson
import pytest

from ledger.cli import run_captured
from schemas import answers, dpv
from schemas.answers import ProvLineage
from schemas.events import FindingRecordedData
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


# --- finding rules, consent states and the parts that were untyped (issue 15) ---------

FINDING_RULES = set(get_args(FindingRecordedData.model_fields["rule"].annotation))
"""Every finding rule the ledger records (the FindingRecorded event's closed list)."""

UNTYPED_ALLOWED = {
    ("FieldValueAnswer", "value"): "a personal value as recorded: no DPV concept is its id",
    **{
        ("ProvLineage", field.alias or name): "PROV-JSON records: PROV's and DPV's own qnames"
        for name, field in ProvLineage.model_fields.items()
        if name != "prefix"
    },
}
"""Answer parts left as free JSON on purpose, each with the reason."""


def _untyped(schema: dict[str, Any]) -> bool:
    """A schema (or one nested in it) that says nothing of its content: ``Any``, a bare object."""
    if "$ref" in schema or "enum" in schema or "const" in schema:
        return False
    if "anyOf" in schema:
        return any(_untyped(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind is None:
        return True
    if kind == "array":
        return _untyped(schema.get("items", {}))
    if kind == "object" and "properties" not in schema:
        extra = schema.get("additionalProperties", True)
        return extra is True or (isinstance(extra, dict) and _untyped(extra))
    return False


def test_every_finding_rule_has_a_dpv_entry_and_no_entry_is_stray() -> None:
    assert set(dpv.FINDING_RULES) == FINDING_RULES


@pytest.mark.parametrize("rule", sorted(FINDING_RULES))
def test_each_finding_rule_maps_to_a_dpv_concept_or_says_why_none_fits(rule: str) -> None:
    term = dpv.FINDING_RULES[rule]
    assert term.status.startswith(dpv.DPV)
    assert term.note
    if term.concept is None:
        assert "no dpv concept" in term.note.lower()
    else:
        assert term.concept.startswith((dpv.DPV, dpv.EU_GDPR))
    assert dpv.finding_rule(rule) == term.concept
    assert dpv.finding_status(rule) == term.status


def test_only_lifting_a_finding_has_no_dpv_concept() -> None:
    assert {r for r in FINDING_RULES if dpv.finding_rule(r) is None} == {"finding_lifted"}
    assert dpv.finding_rule("no_lawful_basis") == f"{GDPR}LawfulnessPrinciple"
    assert dpv.finding_status("no_lawful_basis") == "https://w3id.org/dpv#Unlawful"
    assert dpv.finding_rule("unknown_rule") is None


def test_every_answer_part_naming_a_finding_rule_carries_its_dpv_terms() -> None:
    named = {
        name
        for model in answers.ANSWERS
        for name, obj in _objects(model)
        if "rule" in obj.get("properties", {}) and "message" in obj.get("properties", {})
        and name != "RefusedLine"
    }  # fmt: skip
    assert named == {"AppendedFinding", "FindingAnswer"}
    for model in answers.ANSWERS:
        for name, obj in _objects(model):
            if name in named:
                assert {"rule_dpv", "status_dpv"} <= set(obj["properties"]), name


def test_no_answer_part_is_left_untyped_except_on_purpose() -> None:
    untyped = {
        (name, field)
        for model in answers.ANSWERS
        for name, obj in _objects(model)
        for field, prop in obj.get("properties", {}).items()
        if _untyped(prop)
    }
    assert untyped == set(UNTYPED_ALLOWED)


def test_the_untyped_walk_sees_a_bare_object() -> None:
    assert _untyped({"type": "array", "items": {"type": "object", "additionalProperties": True}})
    assert _untyped({"title": "Value"})
    assert not _untyped({"type": "array", "items": {"$ref": "#/$defs/HeldAnswer"}})


def test_the_once_untyped_parts_carry_dpv_terms() -> None:
    parts = {name: obj for model in answers.ANSWERS for name, obj in _objects(model)}
    expected = [("DerivedAnswer", "processing_dpv"), ("ReceivedAnswer", "processing_dpv"),
                ("ProcessedAnswer", "processing_dpv"), ("HeldAnswer", "basis_dpv"),
                ("ErasureAnswer", "processing_dpv"), ("AppendedFinding", "type_dpv")]  # fmt: skip
    for name, term in expected:
        assert term in parts[name]["properties"], name
    assert ("AppendedFinding", "type") in {
        (name, field)
        for name, obj in parts.items()
        for field, prop in obj.get("properties", {}).items()
        if field in ID_FIELDS and _is_id(prop)
    }


def test_consent_answers_name_all_four_dpv_consent_states() -> None:
    schema = answers.ConsentAnswer.model_json_schema(mode="serialization")
    assert schema["properties"]["state"]["enum"] == ["given", "withdrawn", "expired", "revoked"]
    assert set(dpv.CONSENT_STATES) == set(schema["properties"]["state"]["enum"])


def test_findings_and_appends_carry_the_rules_dpv_terms(store: str, append: Append) -> None:
    appended = append(
        f.subject_registered("C-2", occurred_at="2022-01-01T00:00:00Z"),
        f.personal_data("C-2", occurred_at="2022-01-01T00:00:00Z"),
        f.processed("C-2", purpose="profiling", occurred_at="2022-02-01T00:00:00Z"),
    )
    terms = [
        (x["rule"], x["rule_dpv"], x["status_dpv"], x["type_dpv"]) for x in appended["findings"]
    ]
    expected = ("processing_without_consent", f"{GDPR}A6-1-a", "https://w3id.org/dpv#Unlawful",
                "https://w3id.org/dpv#Use")  # fmt: skip
    assert terms == [expected]
    listed = _json(["findings", "--json", "--store", store])["findings"]
    assert [(x["rule"], x["rule_dpv"], x["status_dpv"]) for x in listed] == [expected[:3]]


def test_lineage_parts_carry_their_processing_concepts(history: str, append: Append) -> None:
    append(
        f.disclosed("C-1", occurred_at="2022-03-01T00:00:00Z"),
        f.processed("C-1", occurred_at="2022-03-02T00:00:00Z"),
    )
    answer = _json(["lineage", "C-1", "--field", "name", "--json", "--store", history])
    (datum,) = answer["data"]
    assert [r["processing_dpv"] for r in datum["received_by"]] == ["https://w3id.org/dpv#Disclose"]
    assert [r["processing_dpv"] for r in datum["processed"]] == ["https://w3id.org/dpv#Use"]


def test_subject_answers_carry_the_consent_state_at_the_instant(history: str) -> None:
    at = ["--at", "2022-03-01T00:00:00Z"]
    earlier = _json(["subject", "C-1", "--json", *at, "--store", history])
    later = _json(["subject", "C-1", "--json", "--store", history])
    assert [(c["state"], c["withdrawn_by"]) for c in earlier["consents"]] == [("given", None)]
    assert [(c["state"], c["withdrawn_by"]) for c in later["consents"]] == [
        ("withdrawn", "subject")
    ]
