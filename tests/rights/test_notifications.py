"""Issue 12: GDPR Art. 19, recipients owed notice of a rectification, erasure or restriction."""

from __future__ import annotations

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.errors import BatchRejected
from ledger.rights.erasure import erase
from projections.replay import replay_compare
from schemas.answers import OwedNotification
from tests import factories as f

SENT = "2021-08-01T00:00:00Z"
CHANGED = "2021-09-01T00:00:00Z"
NAME = {"name": "Aino Korhonen"}


@pytest.fixture
def customer(ledger: Ledger) -> Ledger:
    """C-1001: basic data recorded, then both categories sent to the print house."""
    f.append(
        ledger,
        f.subject_registered("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1001", occurred_at="2021-07-02T00:00:00Z"),
        f.disclosed("C-1001", occurred_at=SENT),
    )
    return ledger


def owed(core: Core, **kw: str) -> list[OwedNotification]:
    return core.views().notifications(**kw).owed


def position_of(core: Core, kind: str) -> int:
    """The position of the subject's last event of this type."""
    return [e.position for e in core.views().trail("C-1001").events if e.type == kind][-1]


def test_a_rectification_of_disclosed_data_is_owed_to_the_recipient(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.personal_data("C-1001", NAME, occurred_at=CHANGED))
    rectified = position_of(core, "PersonalDataRecorded")

    [notification] = owed(core)

    assert notification.subject == "C-1001"
    assert notification.recipient == "print-house"
    assert (notification.event.position, notification.event.type, notification.event.kind) == (
        rectified, "PersonalDataRecorded", "rectification",
    )  # fmt: skip
    assert notification.categories == ["customer_basic"]
    assert notification.disclosures == [position_of(core, "DataDisclosed")]
    assert notification.since.isoformat() == "2021-09-01T00:00:00+00:00"


def test_recording_a_field_for_the_first_time_owes_nothing(core: Core, customer: Ledger) -> None:
    first = f.personal_data("C-1001", {"billing_email": "a@example.fi"}, occurred_at=CHANGED)
    first["data"]["category"] = "billing"
    f.append(customer, first)

    assert owed(core) == []


def test_an_erasure_of_a_disclosed_category_is_owed_to_the_recipient(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.erased_fields("C-1001", occurred_at=CHANGED))

    [notification] = owed(core, subject="C-1001")

    assert (notification.event.type, notification.event.kind) == ("PersonalDataErased", "erasure")
    assert notification.categories == ["customer_basic"]


def test_an_erasure_by_erase_is_owed_for_the_categories_it_destroyed(
    core: Core, customer: Ledger
) -> None:
    cookies = f.disclosed("C-1001", "it-services", occurred_at=SENT)
    cookies["data"].update(categories=["cookies"], purpose="marketing")
    f.append(
        customer,
        f.personal_data("C-1001", {"cookie_id": "ck-77"}, category="cookies", source="cookies",
                        occurred_at="2021-07-01T00:00:00Z"),
        f.consent_granted("C-1001", occurred_at="2021-07-01T00:00:00Z"),
        cookies,
    )  # fmt: skip

    erase(customer, "C-1001", reason="request R-17", categories=["cookies"], scope="category")

    [notification] = owed(core)
    assert notification.recipient == "it-services"
    assert (notification.event.type, notification.event.kind) == ("SubjectErased", "erasure")
    assert notification.event.position == position_of(core, "SubjectErased")
    assert notification.categories == ["cookies"]
    assert owed(core, recipient="print-house") == []


def test_a_restriction_of_all_data_is_owed_for_every_disclosed_category(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.restricted("C-1001", occurred_at=CHANGED))

    [notification] = owed(core)

    assert (notification.event.type, notification.event.kind) == (
        "ProcessingRestricted", "restriction",
    )  # fmt: skip
    assert notification.categories == ["billing", "customer_basic"]


def test_a_recipient_notified_closes_what_it_was_owed(core: Core, customer: Ledger) -> None:
    f.append(customer, f.restricted("C-1001", occurred_at=CHANGED))
    f.append(customer, f.erased_fields("C-1001", occurred_at="2021-09-02T00:00:00Z"))
    restriction = position_of(core, "ProcessingRestricted")
    erasure = position_of(core, "PersonalDataErased")

    f.append(customer, f.recipient_notified("C-1001", restriction, reference="letter-77"))

    assert [o.event.position for o in owed(core)] == [erasure]


def test_a_notification_found_impossible_with_its_reason_closes_it(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.restricted("C-1001", occurred_at=CHANGED))
    restriction = position_of(core, "ProcessingRestricted")

    f.append(
        customer,
        f.recipient_notified(
            "C-1001", restriction, impossible=True, reason="recipient dissolved in 2021"
        ),
    )

    assert owed(core) == []


def test_a_notification_to_another_recipient_or_regarding_another_event_closes_nothing(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.restricted("C-1001", occurred_at=CHANGED))
    restriction = position_of(core, "ProcessingRestricted")

    f.append(customer, f.recipient_notified("C-1001", restriction, recipient="debt-collection"))

    assert [(o.recipient, o.event.position) for o in owed(core)] == [("print-house", restriction)]


def test_a_notification_regarding_anything_but_a_change_of_its_subject_is_refused(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.subject_registered("C-2002"), f.personal_data("C-2002", NAME))
    others = [e.position for e in core.views().trail("C-2002").events]
    head = customer.recorder.max_notification_id()
    with pytest.raises(BatchRejected) as refused:
        f.append(
            customer,
            f.recipient_notified("C-1001", position_of(core, "DataDisclosed")),  # not a change
            f.recipient_notified("C-1001", others[-1]),  # another subject's change
            f.recipient_notified("C-1001", 10**9),  # no such position
        )

    assert [(v.line, v.field, v.rule) for v in refused.value.violations] == [
        (n, "data.regarding", "not_a_change_of_subject") for n in (1, 2, 3)
    ]
    assert customer.recorder.max_notification_id() == head


def test_nothing_is_owed_to_a_recipient_that_never_got_the_affected_categories(
    core: Core, customer: Ledger
) -> None:
    f.append(customer, f.recipient_registered("mailer", occurred_at=SENT))
    disclosure = f.disclosed("C-1001", "mailer", occurred_at=SENT)
    disclosure["data"].update(categories=["billing"], purpose="marketing")
    disclosure["data"].pop("controller")
    f.append(customer, disclosure)

    f.append(customer, f.erased_fields("C-1001", occurred_at=CHANGED))

    assert [o.recipient for o in owed(core)] == ["print-house"]
    assert owed(core, recipient="mailer") == []


def test_a_disclosure_after_the_change_owes_nothing_for_it(core: Core, customer: Ledger) -> None:
    f.append(customer, f.restricted("C-1001", categories=["billing"], occurred_at=CHANGED))
    f.append(customer, f.disclosed("C-1001", "debt-collection", occurred_at="2021-10-01T00:00:00Z"))

    assert [o.recipient for o in owed(core)] == ["print-house"]


def test_a_notification_of_an_unknown_recipient_or_impossible_without_reason_is_refused(
    core: Core, customer: Ledger
) -> None:
    with pytest.raises(BatchRejected) as refused:
        f.append(
            customer,
            f.recipient_notified("C-1001", 1, recipient="nobody"),
            f.recipient_notified("C-1001", 1, impossible=True),
        )

    assert [(v.line, v.field, v.rule) for v in refused.value.violations] == [
        (1, "data.recipient", "unknown_recipient"),
        (1, "data.regarding", "not_a_change_of_subject"),
        (2, "data.reason", "missing_field"),
        (2, "data.regarding", "not_a_change_of_subject"),
    ]
    assert [e.type for e in core.views().trail("C-1001").events][-1] == "DataDisclosed"


def test_a_rebuild_gives_the_same_notifications_view(core: Core, customer: Ledger) -> None:
    f.append(customer, f.personal_data("C-1001", NAME, occurred_at=CHANGED))
    f.append(customer, f.restricted("C-1001", occurred_at=CHANGED))
    f.append(customer, f.recipient_notified("C-1001", position_of(core, "ProcessingRestricted")))
    erase(customer, "C-1001", reason="request R-17")

    assert [o.event.kind for o in owed(core)] == ["rectification"]
    _, differences, compared = replay_compare(core.ledger, core.store)
    assert differences == []
    assert compared > 0
