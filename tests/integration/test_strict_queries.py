"""Issue 12: a query naming a purpose, category, field or recipient the register never knew.

Such a question has no answer: it is an error (``NotKnown``, a ``NotFound``) naming
the rule and the argument, not "not lawful" or an empty list. Known means defined
in any published notice version (a purpose dropped later is still a question about
the past) or, for a recipient, registered by an event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.errors import NotFound, NotKnown
from projections.check import check
from schemas.register import Purpose, RegisterDefinition
from tests import factories as f

AT = f.utc("2023-06-01T00:00:00")


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    """C-1: registered with data and a contract, one disclosure to the print house."""
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2022-01-02T00:00:00Z"),
        f.disclosed("C-1", occurred_at="2022-02-01T00:00:00Z"),
    )
    return ledger


def _refused(error: pytest.ExceptionInfo[NotKnown], rule: str, field: str) -> str:
    assert isinstance(error.value, NotFound)
    assert (error.value.rule, error.value.field) == (rule, field)
    return str(error.value)


def test_a_basis_question_about_an_unknown_purpose_is_not_found(
    core: Core, customer: Ledger
) -> None:
    with pytest.raises(NotKnown) as refused:
        core.views().basis("C-1", "nosuchpurpose", at=AT, known_at=None)

    message = _refused(refused, "unknown_purpose", "purpose")
    assert "nosuchpurpose" in message
    assert core.views().basis("C-1", "billing", at=AT, known_at=None).lawful


def test_a_check_of_an_unknown_purpose_is_not_found(core: Core, customer: Ledger) -> None:
    with pytest.raises(NotKnown) as refused:
        check(core.views(), "C-1", "nosuchpurpose", at=AT, categories=["customer_basic"])

    _refused(refused, "unknown_purpose", "purpose")


def test_a_check_naming_an_unknown_category_is_not_found_but_a_known_one_is_a_problem(
    core: Core, customer: Ledger
) -> None:
    with pytest.raises(NotKnown) as refused:
        check(core.views(), "C-1", "billing", at=AT, categories=["customer_basic", "nosuch"])

    message = _refused(refused, "unknown_category", "categories")
    assert "nosuch" in message
    assert "customer_basic" not in message
    answer = check(core.views(), "C-1", "billing", at=AT, categories=["customer_basic", "cookies"])
    assert (answer.allowed, answer.problems) == (False, ["the subject has no 'cookies' data"])


def test_a_check_naming_an_unknown_recipient_is_not_found(core: Core, customer: Ledger) -> None:
    with pytest.raises(NotKnown) as refused:
        check(core.views(), "C-1", "billing", at=AT, recipient="nosuch")

    assert "'nosuch'" in _refused(refused, "unknown_recipient", "recipient")
    assert check(core.views(), "C-1", "billing", at=AT, recipient="print-house").allowed


def test_a_recipient_known_only_by_its_registration_is_a_valid_question(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.recipient_registered("mailer", occurred_at="2023-01-01T00:00:00Z"))

    answer = check(core.views(), "C-1", "billing", at=AT, recipient="mailer")

    assert answer.problems == ["recipient 'mailer' does not take part in 'billing'"]
    assert core.views().disclosures(recipient="mailer").disclosures == []


def test_lineage_of_an_unknown_field_is_not_found(core: Core, customer: Ledger) -> None:
    with pytest.raises(NotKnown) as refused:
        core.views().lineage("C-1", "nosuch")

    assert "nosuch" in _refused(refused, "unknown_data_field", "field")
    assert [d.field for d in core.views().lineage("C-1", "name").data] == ["name"]
    assert core.views().lineage("C-1", "consumption").data == []


def test_disclosures_to_an_unknown_recipient_or_of_an_unknown_category_are_not_found(
    core: Core, customer: Ledger
) -> None:
    with pytest.raises(NotKnown) as refused:
        core.views().disclosures(recipient="nosuch")
    _refused(refused, "unknown_recipient", "recipient")
    with pytest.raises(NotKnown) as refused:
        core.views().disclosures(category="nosuch")
    _refused(refused, "unknown_category", "category")
    assert len(core.views().disclosures(recipient="print-house").disclosures) == 1
    assert core.views().disclosures(recipient="analytics-us", category="cookies").disclosures == []


def _versions(definition: RegisterDefinition) -> tuple[RegisterDefinition, RegisterDefinition]:
    research = Purpose(id="research", description="Energy research", bases=("consent",))
    added = definition.model_copy(
        update={"version": "2023-01-01", "purposes": (*definition.purposes, research)}
    )
    return added, definition.model_copy(update={"version": "2024-01-01"})


def test_a_purpose_dropped_by_a_later_notice_is_still_a_question_about_the_past(
    core: Core, customer: Ledger
) -> None:
    added, dropped = _versions(customer.notices.versions[0].definition)
    customer.publish_notice(added, "d" * 64, effective_from=datetime(2023, 1, 1, tzinfo=UTC))
    customer.publish_notice(dropped, "e" * 64, effective_from=datetime(2024, 1, 1, tzinfo=UTC))
    f.append(
        customer,
        f.consent_granted("C-1", purpose="research", occurred_at="2023-02-01T00:00:00Z"),
    )

    views = core.views()
    assert views.basis("C-1", "research", at=AT, known_at=None).lawful
    later = f.utc("2024-02-01T00:00:00")
    assert not views.basis("C-1", "research", at=later, known_at=None).lawful
    assert not check(views, "C-1", "research", at=later).allowed


@pytest.mark.parametrize(
    "name", ["aino.virtanen@example.fi", "010101-123N", "Nosuch", "x" * 65, "a\nb"]
)
def test_an_unknown_name_not_shaped_like_the_registers_is_not_echoed(
    core: Core, customer: Ledger, name: str
) -> None:
    views = core.views()
    calls: list[Callable[[], object]] = [
        lambda: views.basis("C-1", name, at=AT, known_at=None),
        lambda: check(views, "C-1", "billing", at=AT, categories=[name]),
        lambda: views.lineage("C-1", name),
        lambda: views.disclosures(category=name),
    ]
    for call in calls:
        with pytest.raises(NotKnown) as refused:
            call()
        assert name not in str(refused.value)
        assert f"<not shown: {len(name)} characters>" in str(refused.value)


@pytest.mark.parametrize("name", ["010101-123N", "+358 40 123 4567", "a\nb"])
def test_an_unknown_recipient_not_shaped_like_an_id_is_not_echoed(
    core: Core, customer: Ledger, name: str
) -> None:
    views = core.views()
    for call in (
        lambda: check(views, "C-1", "billing", at=AT, recipient=name),
        lambda: views.disclosures(recipient=name),
    ):
        with pytest.raises(NotKnown) as refused:
            call()
        assert name not in str(refused.value)
        assert f"<not shown: {len(name)} characters>" in str(refused.value)


def test_a_known_recipient_without_an_agreement_at_that_instant_stays_a_check_problem(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.recipient_registered("mailer", occurred_at="2024-01-01T00:00:00Z"))

    answer = check(core.views(), "C-1", "billing", at=AT, recipient="mailer")

    assert answer.problems == ["recipient 'mailer' has no agreement in force"]
