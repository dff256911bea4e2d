"""Roles and a service token's append limits: plain values, no store."""

from __future__ import annotations

import pytest

from ledger.access.roles import ACTIONS, ROLES, Principal, line_refusal, may

TOKEN_ID = "tok_0123456789abcdef"  # noqa: S105 - a public id


def principal(
    role: str, types: set[str] | None = None, sources: set[str] | None = None
) -> Principal:
    return Principal(
        token_id=TOKEN_ID, name="billing", role=role,
        types=None if types is None else frozenset(types),
        sources=None if sources is None else frozenset(sources), expires_at=None,
    )  # fmt: skip


ALLOWED = {
    "service": {"append", "check", "basis"},
    "auditor": {"log", "trail", "basis", "findings", "disclosures", "access_log", "lineage"},
    "dpo": set(ACTIONS),
}


def test_the_roles_are_the_contracts() -> None:
    assert ROLES == ("service", "dpo", "auditor")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_role_may_exactly_what_the_contract_gives_it(role: str, action: str) -> None:
    assert may(principal(role), action) is (action in ALLOWED[role])


@pytest.mark.parametrize("action", ["subject", "export", "erase", "retention_apply"])
def test_an_auditor_never_reaches_a_decrypted_value_or_a_write(action: str) -> None:
    assert not may(principal("auditor"), action)


def test_an_unknown_action_is_the_callers_mistake() -> None:
    with pytest.raises(ValueError, match="unknown action 'subjects'"):
        may(principal("dpo"), "subjects")


def test_a_service_token_without_limits_may_append_any_line() -> None:
    assert line_refusal(principal("service"), {"type": "ConsentGranted", "source": None}) is None


def test_a_service_token_is_refused_a_type_it_was_not_given() -> None:
    token = principal("service", types={"ConsentGranted"})
    assert line_refusal(token, {"type": "ConsentGranted"}) is None
    assert line_refusal(token, {"type": "DataDisclosed"}) == (
        "event type DataDisclosed is not allowed for this token"
    )


def test_a_service_token_is_refused_a_source_it_was_not_given() -> None:
    token = principal("service", sources={"web_forms"})
    assert line_refusal(token, {"type": "ConsentGranted", "source": "web_forms"}) is None
    assert line_refusal(token, {"type": "ConsentGranted", "source": "datahub"}) == (
        "source datahub is not allowed for this token"
    )
    assert line_refusal(token, {"type": "ConsentGranted"}) == (
        "a line without a source is not allowed for this token"
    )


def test_a_refusal_never_repeats_a_type_or_source_that_may_be_personal_data() -> None:
    token = principal("service", types={"ConsentGranted"}, sources={"web_forms"})
    refused = line_refusal(token, {"type": "131052-308T"})
    assert refused is not None
    assert "131052" not in refused
    refused = line_refusal(token, {"type": "ConsentGranted", "source": "aino@example.com"})
    assert refused is not None
    assert "aino" not in refused
    assert line_refusal(token, {"type": ["ConsentGranted"]}) == (
        "event type (not shown) is not allowed for this token"
    )


@pytest.mark.parametrize("role", ["dpo", "auditor"])
def test_only_service_tokens_have_append_limits(role: str) -> None:
    assert line_refusal(principal(role, types={"ConsentGranted"}), {"type": "X"}) is None
