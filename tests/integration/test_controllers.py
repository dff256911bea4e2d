"""Issue 12: joint controllers (GDPR Art. 26). A contract with one is no basis for the other."""

from __future__ import annotations

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.errors import BatchRejected, InvalidRequest
from projections.check import check
from tests import factories as f

AT = f.utc("2023-06-01T00:00:00")


@pytest.fixture
def network_customer(ledger: Ledger) -> Ledger:
    """C-1: a customer of the network company only."""
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.contract_started("C-1", "N-1", controller=f.NETWORK, occurred_at="2022-01-02T00:00:00Z"),
    )
    return ledger


@pytest.mark.parametrize("purpose", ["marketing", "customer_relationship", "billing"])
def test_a_network_contract_is_no_basis_for_the_retailers_purposes(
    core: Core, network_customer: Ledger, purpose: str
) -> None:
    answer = core.views().basis("C-1", purpose, at=AT, known_at=None, controller=f.RETAIL)

    assert (answer.lawful, answer.bases, answer.controller) == (False, [], f.RETAIL)
    assert not check(core.views(), "C-1", purpose, at=AT, controller=f.RETAIL).allowed


def test_the_answer_without_a_controller_tells_each_controller(
    core: Core, network_customer: Ledger
) -> None:
    answer = core.views().basis("C-1", "billing", at=AT, known_at=None)

    assert answer.lawful
    assert [(c.controller, c.lawful) for c in answer.by_controller] == [
        (f.RETAIL, False),
        (f.NETWORK, True),
    ]
    assert [(b.basis, b.controller) for b in answer.bases] == [("contract", f.NETWORK)]
    marketing = core.views().basis("C-1", "marketing", at=AT, known_at=None)
    assert (marketing.lawful, [c.controller for c in marketing.by_controller]) == (
        False,
        [f.RETAIL],
    )


def test_processing_by_the_retailer_on_the_network_contract_is_a_finding(
    network_customer: Ledger,
) -> None:
    retail = f.append(network_customer, f.disclosed("C-1", occurred_at="2023-01-01T00:00:00Z"))
    network = f.append(
        network_customer,
        f.disclosed("C-1", controller=f.NETWORK, occurred_at="2023-01-02T00:00:00Z"),
    )

    assert [x["rule"] for x in retail.findings] == ["no_lawful_basis"]
    assert f.RETAIL in retail.findings[0]["message"]
    assert network.findings == ()


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        pytest.param(
            f.processed("C-1", purpose="billing", categories=["billing"]),
            "controller_required", id="processing-for-a-shared-purpose-needs-its-controller",
        ),
        pytest.param(
            f.processed("C-1", controller=f.NETWORK), "controller_not_for_purpose",
            id="marketing-is-not-the-network-companys",
        ),
        pytest.param(
            f.consent_granted("C-1", data={"controller": f.NETWORK}),
            "controller_not_for_purpose", id="nor-is-a-consent-to-it",
        ),
    ],
)  # fmt: skip
def test_a_line_naming_the_wrong_controller_or_none_when_it_matters_is_refused(
    network_customer: Ledger, line: dict[str, object], rule: str
) -> None:
    head = network_customer.recorder.max_notification_id()

    with pytest.raises(BatchRejected) as refused:
        f.append(network_customer, line)

    assert [(v.field, v.rule) for v in refused.value.violations] == [("data.controller", rule)]
    assert network_customer.recorder.max_notification_id() == head


def test_a_consent_to_one_controller_is_no_basis_for_the_other(
    core: Core, network_customer: Ledger
) -> None:
    f.append(
        network_customer,
        f.consent_granted(
            "C-1", "development", data={"controller": f.NETWORK},
            occurred_at="2023-01-01T00:00:00Z",
        ),
    )  # fmt: skip
    views = core.views()

    retail = views.basis("C-1", "development", at=AT, known_at=None, controller=f.RETAIL)
    network = views.basis("C-1", "development", at=AT, known_at=None, controller=f.NETWORK)

    assert (retail.lawful, sorted(b.basis for b in network.bases)) == (
        False,
        ["consent", "contract"],
    )


def test_an_objection_addressed_to_the_retailer_ends_only_its_marketing(
    core: Core, ledger: Ledger
) -> None:
    f.append(
        ledger,
        f.subject_registered("C-2", occurred_at="2022-01-01T00:00:00Z"),
        f.contract_started("C-2", occurred_at="2022-01-02T00:00:00Z"),
        f.objection("C-2", occurred_at="2023-01-01T00:00:00Z") | {
            "data": {"purpose": "marketing", "controller": f.RETAIL}
        },
    )  # fmt: skip

    answer = core.views().basis("C-2", "marketing", at=AT, known_at=None)

    assert not answer.lawful


def test_an_unknown_controller_in_a_question_is_refused_without_echoing_it(
    core: Core, network_customer: Ledger
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        core.views().basis("C-1", "billing", at=AT, known_at=None, controller="131052-308T")

    assert (refused.value.rule, refused.value.field) == ("unknown_controller", "controller")
    assert "131052" not in str(refused.value)


def test_a_disclosure_in_the_contracts_shape_is_accepted_and_judged_for_any_controller(
    network_customer: Ledger,
) -> None:
    """Contract version 1 gives DataDisclosed no controller: a line of that shape for a
    purpose of both controllers is appended, lawful when one of them has a basis."""
    shared = {**f.disclosed("C-1", occurred_at="2023-01-02T00:00:00Z"),
              "data": {"recipient": "print-house", "purpose": "billing",
                       "categories": ["billing"]}}  # fmt: skip

    result = f.append(network_customer, shared)

    assert (result.appended, result.findings) == (1, ())
