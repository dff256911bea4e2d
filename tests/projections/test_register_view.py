"""The register view: current values, as of an instant, as known at a time."""

from __future__ import annotations

from datetime import timedelta

from ledger.appending.application import Ledger
from ledger.clock import FixedClock
from tests import factories as f
from tests.factories import utc


def test_each_field_shows_its_latest_value_with_source_and_time(core, ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"name": "Aino Korhonen"}, source="authority_registers",
                        occurred_at="2022-02-01T00:00:00Z"),
    )  # fmt: skip
    now = core.views().subject("C-1", at=ledger.clock.now(), known_at=None)
    basic = now.fields["customer_basic"]
    assert (basic["name"].value, basic["name"].source) == ("Aino Korhonen", "authority_registers")
    assert basic["personal_identity_code"].value == "131052-308T"
    assert basic["personal_identity_code"].source == "data_subject"
    assert (now.kind, now.controller) == ("person", f.RETAIL)
    before = core.views().subject("C-1", at=utc("2022-01-01T00:00:00"), known_at=None)
    assert before.fields["customer_basic"]["name"].value == "Aino Virtanen"


def test_a_late_recorded_correction_shows_only_for_what_was_true(
    core, ledger: Ledger, clock: FixedClock
) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
    )
    knew = clock.now()
    clock.advance(timedelta(days=10))
    f.append(
        ledger, f.personal_data("C-1", {"name": "Aino Lahti"}, occurred_at="2021-09-01T00:00:00Z")
    )
    views = core.views()
    true_then = views.subject("C-1", at=utc("2022-01-01T00:00:00"), known_at=None)
    known_then = views.subject("C-1", at=utc("2022-01-01T00:00:00"), known_at=knew)
    assert true_then.fields["customer_basic"]["name"].value == "Aino Lahti"
    assert known_then.fields["customer_basic"]["name"].value == "Aino Virtanen"


def test_an_erased_field_is_gone_from_the_view_after_its_erasure(core, ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.erased_fields("C-1", occurred_at="2022-01-01T00:00:00Z"),
    )
    views = core.views()
    assert set(
        views.subject("C-1", at=utc("2022-06-01T00:00:00"), known_at=None).fields["customer_basic"]
    ) == {"personal_identity_code"}
    assert (
        "name"
        in views.subject("C-1", at=utc("2021-08-01T00:00:00"), known_at=None).fields[
            "customer_basic"
        ]
    )


def test_contracts_consents_and_objections_are_listed(core, ledger: Ledger) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn("C-1", occurred_at="2022-02-01T00:00:00Z"),
        f.objection("C-1", occurred_at="2022-03-01T00:00:00Z"),
        f.contract_ended("C-1", occurred_at="2023-01-01T00:00:00Z"),
    )
    answer = core.views().subject("C-1", at=ledger.clock.now(), known_at=None)
    (contract,) = answer.contracts
    assert (contract.started_at, contract.ended_at) == (
        utc("2021-08-01T00:00:00"),
        utc("2023-01-01T00:00:00"),
    )
    (consent,) = answer.consents
    assert (consent.notice_version, consent.withdrawn_at) == (
        "2021-06-03",
        utc("2022-02-01T00:00:00"),
    )
    assert [o.purpose for o in answer.objections] == ["marketing"]
    mid = core.views().subject("C-1", at=utc("2022-01-15T00:00:00"), known_at=None)
    assert mid.consents[0].withdrawn_at is None
    assert mid.contracts[0].ended_at is None


def test_the_views_hold_no_plaintext_personal_value(core, ledger: Ledger) -> None:
    f.append(
        ledger, f.subject_registered("C-1"), f.personal_data("C-1", {"name": "Väinö Ylläsjärvi"})
    )
    views = core.views()
    rows = views.store.query("SELECT * FROM {t}v_fields") + views.store.query(
        "SELECT * FROM {t}v_sealed"
    )
    assert rows
    assert "Ylläsjärvi" not in repr([dict(r) for r in rows])
    assert views.subject("C-1", at=ledger.clock.now(), known_at=None).fields["customer_basic"][
        "name"
    ].value == ("Väinö Ylläsjärvi")
