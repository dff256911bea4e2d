"""Labels, time zone, logic and DPV concepts in the register definition: additive and checked."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.register import Category, Purpose, RegisterDefinition, Source

REGISTER_FILE = Path(__file__).parents[2] / "examples" / "register.toml"
ADDED = frozenset(
    {"label", "dpv", "time_zone", "field_labels", "logic", "rights_label"}
)  # the keys the access package added to the definition


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    with REGISTER_FILE.open("rb") as handle:
        return tomllib.load(handle)


def _without_added(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_added(v) for k, v in value.items() if k not in ADDED}
    if isinstance(value, list):
        return [_without_added(v) for v in value]
    return value


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_a_definition_without_the_new_fields_dumps_and_hashes_exactly_as_before(
    raw: dict[str, Any],
) -> None:
    earlier = _without_added(raw)
    dumped = RegisterDefinition.model_validate(earlier).model_dump(mode="json")
    assert not _keys(dumped) & ADDED
    again = RegisterDefinition.model_validate(dumped, context={"recorded": True})
    assert again.model_dump(mode="json") == dumped
    first = hashlib.sha256(orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)).hexdigest()
    second = hashlib.sha256(
        orjson.dumps(again.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    assert first == second


def test_the_example_register_labels_everything_the_package_shows_in_english_and_finnish(
    raw: dict[str, Any],
) -> None:
    register = RegisterDefinition.model_validate(raw)
    assert register.time_zone == "Europe/Helsinki"
    items: list[Purpose | Category | Source] = [
        *register.purposes, *register.categories,
        *(s for s in register.sources if s.id != "events"),  # the example of the fallback
    ]  # fmt: skip
    for item in items:
        assert item.label is not None
        assert set(item.label) == {"en", "fi"}, item.id
        assert item.dpv, item.id
    for category in register.categories:
        assert set(category.field_labels or {}) == set(category.fields), category.id
    assert all(r.label and r.label.get("fi") for r in register.recipients)
    assert all(r.label and r.label.get("fi") for r in register.retention)
    assert register.rights_label is not None
    assert len(register.rights_label["fi"]) == len(register.rights)
    profiles = register.category("profiles")
    assert profiles is not None
    assert profiles.logic is not None
    assert set(profiles.logic.explanation) == {"en", "fi"}


def test_the_example_maps_to_real_dpv_namespaces(raw: dict[str, Any]) -> None:
    register = RegisterDefinition.model_validate(raw)
    purposes = {p.id: p.dpv for p in register.purposes}
    assert purposes["service_delivery"] == ("https://w3id.org/dpv#ServiceProvision",)
    assert purposes["billing"] == ("https://w3id.org/dpv#PaymentManagement",)
    category = register.category("customer_basic")
    assert category is not None
    assert category.dpv == ("https://w3id.org/dpv/pd#Name", "https://w3id.org/dpv/pd#OfficialID")
    sources = {s.id: s.dpv for s in register.sources}
    assert sources["data_subject"] == ("https://w3id.org/dpv#DataSubjectDataSource",)


def _refused(raw: dict[str, Any], change: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        RegisterDefinition.model_validate({**_without_added(raw), **change})
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


def test_a_label_key_must_be_a_language_code(raw: dict[str, Any]) -> None:
    found = _refused(raw, {"label": {"EN": "Customer register"}})
    assert found == [("label.EN.[key]", "string_pattern_mismatch")]


def test_an_empty_label_is_refused(raw: dict[str, Any]) -> None:
    assert _refused(raw, {"label": {"fi": ""}}) == [("label.fi", "string_too_short")]


@pytest.mark.parametrize(
    ("zone", "rule"),
    [("Europe/Nowhere", "unknown_time_zone"), ("Europe", "unknown_time_zone"),
     ("../etc/passwd", "invalid_time_zone"), ("Europe/Helsinki\n", "invalid_time_zone")],
)  # fmt: skip
def test_the_time_zone_must_be_an_iana_zone(raw: dict[str, Any], zone: str, rule: str) -> None:
    assert _refused(raw, {"time_zone": zone}) == [("time_zone", rule)]


def test_a_stored_notice_is_read_even_if_this_machine_lacks_its_zone(
    raw: dict[str, Any],
) -> None:
    stored = {**_without_added(raw), "time_zone": "Mars/Olympus_Mons"}
    read = RegisterDefinition.model_validate(stored, context={"recorded": True})
    assert read.time_zone == "Mars/Olympus_Mons"


def test_only_a_derived_category_states_its_logic(raw: dict[str, Any]) -> None:
    categories = _without_added(raw)["categories"]
    categories[0]["logic"] = {"explanation": {"en": "We guess."}}
    assert _refused(raw, {"categories": categories}) == [("categories.0", "logic_not_derived")]


def test_logic_for_decisions_the_register_says_do_not_exist_is_refused(
    raw: dict[str, Any],
) -> None:
    automated = {
        "exists": False, "statement": "None.",
        "logic": {"credit-rule-7": {"explanation": {"en": "A score decides."}}},
    }  # fmt: skip
    found = _refused(raw, {"automated_decisions": automated})
    assert found == [("automated_decisions", "logic_without_decisions")]


@pytest.mark.parametrize(
    "iri",
    ["http://w3id.org/dpv#ServiceProvision", "https://w3id.org/dpv#", "ServiceProvision",
     "https://example.org/dpv#ServiceProvision"],
)  # fmt: skip
def test_a_dpv_concept_must_be_a_dpv_iri(raw: dict[str, Any], iri: str) -> None:
    purposes = _without_added(raw)["purposes"]
    purposes[0]["dpv"] = [iri]
    assert _refused(raw, {"purposes": purposes}) == [
        ("purposes.0.dpv.0", "string_pattern_mismatch")
    ]
