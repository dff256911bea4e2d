"""The example register (examples/register.toml) keeps the public contract's ids."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from schemas.register import EEA_COUNTRIES, LegalBasis, RegisterDefinition

REGISTER_FILE = Path(__file__).parents[2] / "examples" / "register.toml"


@pytest.fixture(scope="module")
def register() -> RegisterDefinition:
    with REGISTER_FILE.open("rb") as handle:
        return RegisterDefinition.model_validate(tomllib.load(handle))


def test_the_example_register_validates_against_the_schema(
    register: RegisterDefinition,
) -> None:
    assert register.version == "2021-06-03"
    assert register.language == "en"
    assert register.effective_from is not None
    assert register.effective_from.isoformat() == "2021-06-03T00:00:00+03:00"


def test_the_controllers_are_the_retail_and_the_network_company(
    register: RegisterDefinition,
) -> None:
    assert {c.business_id for c in register.controllers} == {"0209628-8", "1993667-7"}


def test_the_privacy_contact_is_the_notices_email(register: RegisterDefinition) -> None:
    assert register.privacy_contact.email == "tietosuoja@vaasansahko.fi"


def test_each_purpose_allows_exactly_the_contracts_bases(
    register: RegisterDefinition,
) -> None:
    expected = {
        "customer_relationship": {LegalBasis.CONTRACT},
        "service_delivery": {LegalBasis.CONTRACT},
        "billing": {LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION},
        "marketing": {LegalBasis.CONSENT, LegalBasis.CONTRACT},
        "development": {LegalBasis.CONTRACT, LegalBasis.CONSENT},
        "profiling": {LegalBasis.CONSENT},
    }
    assert {p.id: set(p.bases) for p in register.purposes} == expected


def test_marketing_notes_that_an_objection_ends_it(
    register: RegisterDefinition,
) -> None:
    marketing = register.purpose("marketing")
    assert marketing is not None
    assert marketing.note is not None
    assert "objection" in marketing.note.lower()


def test_the_categories_are_exactly_the_contracts(register: RegisterDefinition) -> None:
    assert {c.id for c in register.categories} == {
        "customer_basic",
        "billing",
        "metering_point",
        "contact_person",
        "cookies",
        "web_logs",
        "profiles",
        "correspondence",
    }


def test_customer_basic_holds_only_the_name_and_the_identity_code(
    register: RegisterDefinition,
) -> None:
    customer_basic = register.category("customer_basic")
    assert customer_basic is not None
    assert customer_basic.fields == {
        "name": "text",
        "personal_identity_code": "personal_identity_code",
    }


def test_the_metering_point_has_an_address_and_consumption_of_the_network_company(
    register: RegisterDefinition,
) -> None:
    metering_point = register.category("metering_point")
    assert metering_point is not None
    assert {"address", "consumption"} <= set(metering_point.fields)
    assert metering_point.controller == "1993667-7"


def test_profiles_are_the_only_derived_category(register: RegisterDefinition) -> None:
    assert {c.id for c in register.categories if c.derived} == {"profiles"}


def test_the_sources_are_exactly_the_contracts(register: RegisterDefinition) -> None:
    assert {s.id for s in register.sources} == {
        "data_subject",
        "web_forms",
        "web_services",
        "cookies",
        "events",
        "authority_registers",
        "credit_register",
        "datahub",
    }


def test_billing_is_kept_ten_years_after_the_contract_ends_under_the_accounting_act(
    register: RegisterDefinition,
) -> None:
    (rule,) = [r for r in register.retention if r.category == "billing"]
    assert rule.period == "P10Y"
    assert rule.period_parts == (10, 0, 0)
    assert rule.starts == "contract_ended"
    assert rule.legal_reference is not None
    assert "1336/1997" in rule.legal_reference


def test_every_category_has_exactly_one_stated_retention_rule(
    register: RegisterDefinition,
) -> None:
    ruled = [r.category for r in register.retention]
    assert sorted(ruled) == sorted(c.id for c in register.categories)
    assert all(r.statement.strip() for r in register.retention)


def test_there_is_no_automated_decision_making(register: RegisterDefinition) -> None:
    assert register.automated_decisions.exists is False


def test_every_recipient_outside_the_eea_has_a_safeguard(
    register: RegisterDefinition,
) -> None:
    outside = [r for r in register.recipients if r.country not in EEA_COUNTRIES]
    assert outside, "the example should show one transfer outside the EU/EEA"
    assert all(r.safeguard is not None for r in outside)


def test_recipients_name_only_the_registers_purposes(
    register: RegisterDefinition,
) -> None:
    purposes = {p.id for p in register.purposes}
    for recipient in register.recipients:
        assert set(recipient.purposes) <= purposes
