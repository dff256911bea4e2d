"""Policy findings of ledger.domain.findings, judged from plain values (no store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.domain.basis import Evidence, Fact
from ledger.domain.findings import (
    Agreement,
    Agreements,
    Erasure,
    Finding,
    judge_automated_decision,
    judge_basis,
    judge_disclosure,
    judge_erased_use,
    judge_recorded_after_erasure,
)
from ledger.domain.register import NoticeHistory, NoticeVersion
from schemas.register import Recipient

MakeNotice = Callable[..., NoticeVersion]
V1 = "2021-06-03"
AT = "2023-06-01"
AT_ISO = "2023-06-01T00:00:00+00:00"


def t(text: str) -> datetime:
    """An instant in UTC: ``t("2023-05-10T12:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fact(position: int, kind: str, when: str, **values: Any) -> Fact:
    return Fact(position, kind, t(when), t(when), **values)


def started(position: int, when: str) -> Fact:
    return fact(position, "ContractStarted", when, controller="0209628-8", contract="k-1")


def ended(position: int, when: str) -> Fact:
    return fact(position, "ContractEnded", when, controller="0209628-8", contract="k-1")


def granted(position: int, when: str, purpose: str = "profiling") -> Fact:
    return fact(position, "ConsentGranted", when, purpose=purpose)


def withdrawn(position: int, when: str, purpose: str = "profiling") -> Fact:
    return fact(position, "ConsentWithdrawn", when, purpose=purpose)


def evidence(*events: tuple[int, str]) -> tuple[Evidence, ...]:
    return tuple(Evidence(position, kind) for position, kind in events)


def ended_by(kind: str | None) -> str:
    return "" if kind is None else f" (the last basis was ended by {kind})"


def no_basis(
    purpose: str, *events: tuple[int, str], at: str = AT_ISO, ended: str | None = None
) -> Finding:
    return Finding(
        "no_lawful_basis",
        f"no lawful basis for purpose {purpose!r} at {at}{ended_by(ended)}",
        purpose=purpose,
        notice_version=V1,
        evidence=evidence(*events),
    )


def no_consent(purpose: str, *events: tuple[int, str], ended: str | None = None) -> Finding:
    return Finding(
        "processing_without_consent",
        f"no consent for purpose {purpose!r} at {AT_ISO}{ended_by(ended)}",
        purpose=purpose,
        notice_version=V1,
        evidence=evidence(*events),
    )


@pytest.mark.parametrize(
    ("purpose", "facts", "at", "expected"),
    [
        pytest.param(
            "marketing", [granted(1, "2023-01-10", "marketing")], AT, None, id="consent-holds"
        ),
        pytest.param(
            "billing",
            [started(1, "2022-01-01"), ended(2, "2023-05-10")],
            AT,
            None,
            id="legal-obligation-holds-after-the-contract",
        ),
        pytest.param("marketing", [], "2021-01-01", None, id="no-notice-in-force-judges-nothing"),
        pytest.param("marketing", [], AT, no_basis("marketing"), id="nothing-for-marketing"),
        pytest.param(
            "customer_relationship",
            [started(1, "2022-01-01"), ended(2, "2023-05-10")],
            AT,
            no_basis(
                "customer_relationship",
                (1, "ContractStarted"),
                (2, "ContractEnded"),
                ended="ContractEnded",
            ),
            id="contract-ended-for-a-contract-only-purpose",
        ),
        pytest.param("lottery", [], AT, no_basis("lottery"), id="purpose-not-in-the-notice"),
        pytest.param("profiling", [], AT, no_consent("profiling"), id="consent-only-never-given"),
        pytest.param(
            "profiling",
            [granted(1, "2023-01-10"), withdrawn(2, "2023-03-01")],
            AT,
            no_consent(
                "profiling",
                (1, "ConsentGranted"),
                (2, "ConsentWithdrawn"),
                ended="ConsentWithdrawn",
            ),
            id="consent-only-withdrawn",
        ),
        pytest.param(
            "profiling",
            [
                started(1, "2022-01-01"),
                granted(2, "2023-01-01", "marketing"),
                granted(3, "2023-01-10"),
                withdrawn(4, "2023-03-01"),
                granted(5, "2023-07-01"),
            ],
            AT,
            no_consent(
                "profiling",
                (1, "ContractStarted"),
                (3, "ConsentGranted"),
                (4, "ConsentWithdrawn"),
                ended="ConsentWithdrawn",
            ),
            id="evidence-is-this-purposes-and-purposeless-facts-up-to-the-instant",
        ),
        pytest.param(
            "profiling",
            [
                granted(1, "2023-01-01"),
                withdrawn(2, "2023-01-02"),
                granted(3, "2023-01-03"),
                withdrawn(4, "2023-01-04"),
                granted(5, "2023-01-05"),
                withdrawn(6, "2023-01-06"),
            ],
            AT,
            no_consent(
                "profiling",
                (2, "ConsentWithdrawn"),
                (3, "ConsentGranted"),
                (4, "ConsentWithdrawn"),
                (5, "ConsentGranted"),
                (6, "ConsentWithdrawn"),
                ended="ConsentWithdrawn",
            ),
            id="evidence-is-the-last-five-facts",
        ),
    ],
)
def test_processing_without_a_lawful_basis_is_a_finding(
    notices: NoticeHistory, purpose: str, facts: list[Fact], at: str, expected: Finding | None
) -> None:
    assert judge_basis(facts, notices, purpose, t(at)) == expected


def terms(recipient: str, *purposes: str) -> Recipient:
    return Recipient(
        id=recipient, name=recipient.title(), role="processor", country="FI", purposes=purposes
    )


@pytest.fixture
def agreements() -> Agreements:
    """mailer: marketing from 2023-01-01, development from 2023-03-01, ended 2023-05-01,
    marketing again from 2023-07-01; print-house (named in the notice): billing and
    marketing from 2023-01-01, ended 2024-01-01."""
    registered = Agreements()
    registered.add("mailer", Agreement(t("2023-07-01"), terms("mailer", "marketing"), 4))
    registered.add("mailer", Agreement(t("2023-01-01"), terms("mailer", "marketing"), 1))
    registered.add("mailer", Agreement(t("2023-05-01"), None, 3))
    registered.add("mailer", Agreement(t("2023-03-01"), terms("mailer", "development"), 2))
    registered.add(
        "print-house", Agreement(t("2023-01-01"), terms("print-house", "billing", "marketing"))
    )
    registered.add("print-house", Agreement(t("2024-01-01"), None))
    return registered


@pytest.fixture
def disclose(
    notices: NoticeHistory, agreements: Agreements
) -> Callable[[str, str, datetime], Finding | None]:
    """Judge a disclosure against the example notice and the agreements above."""
    return lambda recipient, purpose, at: judge_disclosure(
        recipient, purpose, at, notices, agreements
    )


def ended_recipient(recipient: str, purpose: str, at: str) -> Finding:
    message = f"recipient {recipient!r} had ended at {t(at).isoformat()}"
    return Finding("disclosure_to_ended_recipient", message, purpose, recipient, V1)


def unregistered(recipient: str, purpose: str, at: str, version: str | None = V1) -> Finding:
    message = f"recipient {recipient!r} had no agreement in force at {t(at).isoformat()}"
    return Finding("disclosure_to_unregistered_recipient", message, purpose, recipient, version)


def outside(recipient: str, purpose: str, agreed: list[str]) -> Finding:
    message = f"recipient {recipient!r} takes part in {agreed}, not {purpose!r}"
    return Finding("disclosure_outside_agreement", message, purpose, recipient, V1)


@pytest.mark.parametrize(
    ("recipient", "purpose", "at", "expected"),
    [
        pytest.param("debt-collection", "billing", AT, None, id="named-in-the-notice"),
        pytest.param(
            "debt-collection",
            "marketing",
            AT,
            outside("debt-collection", "marketing", ["billing"]),
            id="named-in-the-notice-for-another-purpose",
        ),
        pytest.param(
            "acme", "billing", AT, unregistered("acme", "billing", AT), id="never-registered"
        ),
        pytest.param(
            "acme",
            "billing",
            "2021-01-01",
            unregistered("acme", "billing", "2021-01-01", version=None),
            id="never-registered-before-any-notice",
        ),
        pytest.param(
            "mailer",
            "marketing",
            "2022-12-31T23:59",
            unregistered("mailer", "marketing", "2022-12-31T23:59"),
            id="before-its-registration",
        ),
        pytest.param("mailer", "marketing", "2023-01-01", None, id="from-its-registration"),
        pytest.param(
            "mailer",
            "marketing",
            "2023-03-01",
            outside("mailer", "marketing", ["development"]),
            id="after-its-agreement-changed",
        ),
        pytest.param(
            "mailer",
            "development",
            AT,
            ended_recipient("mailer", "development", AT),
            id="after-it-ended",
        ),
        pytest.param("mailer", "marketing", "2023-07-01", None, id="after-it-registered-again"),
        pytest.param(
            "print-house", "marketing", AT, None, id="registration-overrides-the-notices-terms"
        ),
        pytest.param(
            "print-house",
            "billing",
            "2024-01-01",
            ended_recipient("print-house", "billing", "2024-01-01"),
            id="ended-recipient-named-in-the-notice",
        ),
    ],
)
def test_a_disclosure_outside_the_recipients_agreement_in_force_is_a_finding(
    disclose: Callable[[str, str, datetime], Finding | None],
    recipient: str,
    purpose: str,
    at: str,
    expected: Finding | None,
) -> None:
    assert disclose(recipient, purpose, t(at)) == expected


def test_agreements_are_kept_in_time_order_whatever_order_they_are_added_in(
    agreements: Agreements,
) -> None:
    assert [a.version for a in agreements.history["mailer"]] == [1, 2, 3, 4]
    assert agreements.at("mailer", t("2022-12-31")) is None
    assert agreements.at("nobody", t(AT)) is None


def with_automated_decisions(raw: dict[str, Any]) -> None:
    raw["automated_decisions"] = {"exists": True, "statement": "Credit limits are set by rules."}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param("2021-01-01", None, id="before-any-notice"),
        pytest.param(
            AT,
            Finding(
                "automated_decision_not_in_notice",
                "notice 2021-06-03 says: "
                "The register's data are not used for automated decision-making.",
                notice_version=V1,
            ),
            id="notice-says-there-are-none",
        ),
        pytest.param("2024-01-01", None, id="notice-says-there-are-some"),
    ],
)
def test_an_automated_decision_the_notice_in_force_denies_is_a_finding(
    notice: NoticeVersion, make_notice: MakeNotice, at: str, expected: Finding | None
) -> None:
    v2 = make_notice("2024", t("2024-01-01"), with_automated_decisions)

    assert judge_automated_decision(NoticeHistory([notice, v2]), t(at)) == expected


# --- issue 12: controllers and erasure -----------------------------------------------

NETWORK = "1993667-7"
RETAIL = "0209628-8"


def network_contract(position: int, when: str) -> Fact:
    return fact(position, "ContractStarted", when, controller=NETWORK, contract="n-1")


@pytest.mark.parametrize(
    ("purpose", "controller", "expected_rule"),
    [
        pytest.param("customer_relationship", RETAIL, "no_lawful_basis", id="retailer-has-none"),
        pytest.param("customer_relationship", NETWORK, None, id="network-company-has-its-own"),
        pytest.param("marketing", None, "no_lawful_basis", id="marketing-is-the-retailers"),
    ],
)
def test_a_contract_with_one_controller_is_no_basis_for_the_others_processing(
    notices: NoticeHistory, purpose: str, controller: str | None, expected_rule: str | None
) -> None:
    found = judge_basis([network_contract(1, "2022-01-01")], notices, purpose, t(AT), controller)

    assert (None if found is None else found.rule) == expected_rule


def erasure(erased: tuple[str, ...], held: dict[str, datetime | None]) -> Erasure:
    return Erasure(7, t("2023-01-01"), "subject", frozenset(erased), held)


HOLD_ENDS = t("2033-01-01")


@pytest.mark.parametrize(
    ("categories", "purpose", "recorded", "expected"),
    [
        pytest.param(["cookies"], "marketing", {}, ["erased_data_used"], id="erased-category"),
        pytest.param(
            ["cookies"], "marketing", {"cookies": t("2023-02-01")}, [],
            id="recorded-again-after-the-erasure-is-new-data",
        ),
        pytest.param(
            ["billing"], "marketing", {}, ["held_data_used_outside_hold"],
            id="held-category-for-another-purpose",
        ),
        pytest.param(["billing"], "billing", {}, [], id="held-category-for-the-holds-purpose"),
        pytest.param(
            ["billing", "cookies"], "billing", {}, ["erased_data_used"],
            id="each-category-judged",
        ),
        pytest.param(["web_logs"], "marketing", {}, [], id="a-category-the-erasure-did-not-name"),
    ],
)  # fmt: skip
def test_erased_and_held_data_are_judged_after_an_erasure(
    notices: NoticeHistory,
    categories: list[str],
    purpose: str,
    recorded: dict[str, datetime],
    expected: list[str],
) -> None:
    found = judge_erased_use(
        [erasure(("cookies",), {"billing": HOLD_ENDS})], recorded, categories,
        purpose=purpose, at=t(AT), notices=notices,
    )  # fmt: skip

    assert [f.rule for f in found] == expected
    assert all(f.evidence == (Evidence(7, "SubjectErased"),) for f in found)


def test_held_data_used_after_its_hold_ended_is_a_finding(notices: NoticeHistory) -> None:
    held = erasure((), {"billing": t("2023-03-01")})

    [found] = judge_erased_use(
        [held], {}, ["billing"], purpose="billing", at=t(AT), notices=notices
    )

    assert found.rule == "held_data_used_outside_hold"
    assert "ended" in found.message


def test_nothing_before_the_erasure_is_judged_by_it(notices: NoticeHistory) -> None:
    found = judge_erased_use(
        [erasure(("cookies",), {})], {}, ["cookies"],
        purpose="marketing", at=t("2022-12-31"), notices=notices,
    )  # fmt: skip

    assert found == []


@pytest.mark.parametrize(
    ("facts", "scope", "expected"),
    [
        pytest.param([], "subject", "data_recorded_after_erasure", id="after-an-erasure-request"),
        pytest.param([], "retention", None, id="after-a-retention-erasure"),
        pytest.param(
            [network_contract(9, "2023-03-01")], "subject", None, id="the-subject-came-back"
        ),
        pytest.param(
            [network_contract(9, "2022-03-01")], "subject", "data_recorded_after_erasure",
            id="a-contract-before-the-erasure-does-not-count",
        ),
    ],
)  # fmt: skip
def test_personal_data_recorded_after_an_erasure_request_is_a_finding(
    notices: NoticeHistory, facts: list[Fact], scope: str, expected: str | None
) -> None:
    erased = Erasure(7, t("2023-01-01"), scope, frozenset({"cookies"}), {})

    found = judge_recorded_after_erasure([erased], facts, t(AT), notices)

    assert (None if found is None else found.rule) == expected
