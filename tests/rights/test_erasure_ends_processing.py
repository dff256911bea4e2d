"""Issue 12: an erasure request, a withdrawal and an objection end what they end.

An ex-customer's billing and basic data are held by law after their erasure
request; the request ends what rested on consent (Art. 17(1)(b)) and the held data
may serve only the hold's purpose (Art. 17(3)). A withdrawal of marketing consent
is an objection to marketing (Art. 21(3)); an objection to profiling related to
marketing ends it. Judged at append, answered by ``basis`` and ``check``.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.clock import FixedClock
from ledger.rights.erasure import erase
from projections.check import check
from tests import factories as f


def at(text: str) -> datetime:
    return f.utc(text)


@pytest.fixture
def ex_customer(ledger: Ledger) -> Ledger:
    """C-1: a retail customer 2021-2023 who consented to marketing in 2022."""
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"billing_email": "aino@example.fi"}, category="billing",
                        occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck-1"}, category="cookies", source="cookies",
                        occurred_at="2023-06-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.contract_ended("C-1", occurred_at="2023-01-31T00:00:00Z"),
    )  # fmt: skip
    return ledger


def rules_of(result: object) -> list[str]:
    return [finding["rule"] for finding in result.findings]  # type: ignore[attr-defined]


def test_an_erasure_request_ends_the_marketing_consent_and_says_which_event_ended_it(
    core: Core, ex_customer: Ledger
) -> None:
    result = erase(ex_customer, "C-1", reason="request R-1")
    assert {h.category for h in result.held} == {"billing", "customer_basic"}
    views = core.views()
    now = ex_customer.clock.now()

    answer = views.basis("C-1", "marketing", at=now, known_at=None, timeline=True)

    assert not answer.lawful
    [consent] = [i for i in answer.timeline or [] if i.basis == "consent"]
    assert consent.ended_by is not None
    assert (consent.ended_by.position, consent.ended_by.type) == (result.position, "SubjectErased")
    assert not check(views, "C-1", "marketing", at=now).allowed
    before = views.basis("C-1", "marketing", at=at("2023-06-01T00:00:00"), known_at=None)
    assert before.lawful


def test_an_erasure_request_is_recorded_even_when_every_category_is_held(
    core: Core, ledger: Ledger
) -> None:
    f.append(
        ledger,
        f.subject_registered("C-2", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-2", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-2", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-2", occurred_at="2022-01-01T00:00:00Z"),
        f.contract_ended("C-2", occurred_at="2023-01-31T00:00:00Z"),
    )

    result = erase(ledger, "C-2", reason="request R-2")

    assert (result.erased, result.position is not None) == ((), True)
    assert [h.category for h in result.held] == ["customer_basic"]
    answer = core.views().basis("C-2", "marketing", at=ledger.clock.now(), known_at=None)
    assert not answer.lawful


def test_after_erasure_marketing_of_held_data_and_use_of_erased_data_are_findings(
    ex_customer: Ledger, clock: FixedClock
) -> None:
    erase(ex_customer, "C-1", reason="request R-1")
    clock.at = at("2024-06-01T00:00:00")
    later = "2024-05-01T10:00:00Z"

    marketing = f.append(
        ex_customer,
        f.disclosed("C-1", recipient="it-services", occurred_at=later,
                    controller=f.RETAIL) | {"data": {"recipient": "it-services",
                    "categories": ["customer_basic"], "purpose": "marketing"}},
    )  # fmt: skip
    cookies = f.append(
        ex_customer,
        f.processed("C-1", purpose="development", categories=["cookies"],
                    controller=f.RETAIL, activity="usage_analysis", occurred_at=later),
    )  # fmt: skip
    billing = f.append(ex_customer, f.disclosed("C-1", occurred_at=later))

    assert rules_of(marketing) == ["held_data_used_outside_hold", "no_lawful_basis"]
    assert rules_of(cookies) == ["erased_data_used", "no_lawful_basis"]
    assert rules_of(billing) == []


def test_personal_data_recorded_for_an_erased_subject_is_a_finding_until_they_come_back(
    ex_customer: Ledger, clock: FixedClock
) -> None:
    erase(ex_customer, "C-1", reason="request R-1")
    clock.at = at("2024-06-01T00:00:00")

    recorded = f.append(
        ex_customer,
        f.personal_data("C-1", {"billing_email": "new@example.fi"}, category="billing",
                        occurred_at="2024-05-01T10:00:00Z"),
    )  # fmt: skip
    f.append(ex_customer, f.contract_started("C-1", "K-9", occurred_at="2024-05-02T00:00:00Z"))
    again = f.append(
        ex_customer,
        f.personal_data("C-1", {"billing_email": "new@example.fi"}, category="billing",
                        occurred_at="2024-05-02T10:00:00Z"),
    )  # fmt: skip

    assert rules_of(recorded) == ["data_recorded_after_erasure"]
    assert rules_of(again) == []


def test_a_withdrawal_of_marketing_consent_ends_marketing_on_the_contract_too(
    core: Core, ledger: Ledger, clock: FixedClock
) -> None:
    f.append(
        ledger,
        f.subject_registered("C-3", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-3", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-3", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-3", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-3", occurred_at="2023-03-01T00:00:00Z"),
    )
    day_after = at("2023-03-02T00:00:00")

    answer = core.views().basis("C-3", "marketing", at=day_after, known_at=None, timeline=True)
    sent = f.append(ledger, f.processed("C-3", occurred_at="2023-03-02T00:00:00Z"))

    assert not answer.lawful
    assert [(i.basis, i.until, i.ended_by and i.ended_by.type) for i in answer.timeline or []] == [
        ("contract", at("2023-03-01T00:00:00"), "ConsentWithdrawn"),
        ("consent", at("2023-03-01T00:00:00"), "ConsentWithdrawn"),
    ]
    assert rules_of(sent) == ["no_lawful_basis"]
    assert not check(core.views(), "C-3", "marketing", at=day_after).allowed


def test_an_objection_to_profiling_ends_profiling_on_consent(core: Core, ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-4", occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-4", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.objection("C-4", purpose="profiling", occurred_at="2023-03-01T00:00:00Z"),
    )

    answer = core.views().basis("C-4", "profiling", at=at("2023-03-02T00:00:00"), known_at=None)

    assert not answer.lawful


def test_an_objection_to_marketing_ends_profiling_related_to_it(core: Core, ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-5", occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-5", purpose="profiling", occurred_at="2022-01-01T00:00:00Z"),
        f.objection("C-5", occurred_at="2023-03-01T00:00:00Z"),
    )

    answer = core.views().basis("C-5", "profiling", at=at("2023-03-02T00:00:00"), known_at=None)

    assert not answer.lawful
