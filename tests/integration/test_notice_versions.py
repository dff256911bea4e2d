"""Every append is checked against the notice version in force at its occurred_at."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.errors import AlreadyInitialised, BatchRejected, ConfigurationError
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from schemas.register import Purpose, RegisterDefinition
from tests import factories as f

V2_FROM = datetime(2023, 1, 1, tzinfo=UTC)


def with_research(definition: RegisterDefinition) -> RegisterDefinition:
    research = Purpose(id="research", description="Energy research", bases=("consent",))
    return definition.model_copy(
        update={"version": "2023-01-01", "purposes": (*definition.purposes, research)}
    )


def test_init_publishes_the_first_version_from_the_definition(ledger: Ledger) -> None:
    (notice,) = ledger.notices.versions
    assert notice.version == "2021-06-03"
    assert notice.effective_from == datetime(2021, 6, 2, 21, 0, tzinfo=UTC)
    assert len(notice.digest) == 64


def test_a_purpose_added_later_is_refused_before_its_version_and_accepted_after(
    ledger: Ledger,
) -> None:
    ledger.publish_notice(
        with_research(ledger.notices.versions[0].definition),
        "d" * 64,
        effective_from=V2_FROM,
    )
    f.append(ledger, f.subject_registered("C-1"))
    early = f.consent_granted("C-1", purpose="research", occurred_at="2022-12-31T23:59:59Z")
    with pytest.raises(
        BatchRejected, match=re.escape("1 problem(s); line 1: data.purpose: unknown_purpose")
    ) as refused:
        f.append(ledger, early)
    assert refused.value.violations[0].rule == "unknown_purpose"
    late = f.consent_granted("C-1", purpose="research", occurred_at="2023-01-01T00:00:00Z")
    f.append(ledger, late)
    consent = ledger.stream(ledger.subject_id("C-1"))[-1]
    assert consent.data.notice_version == "2023-01-01"


def test_a_consent_may_name_the_version_it_was_given_under(ledger: Ledger) -> None:
    ledger.publish_notice(
        with_research(ledger.notices.versions[0].definition),
        "d" * 64,
        effective_from=V2_FROM,
    )
    f.append(ledger, f.subject_registered("C-1"))
    named = f.consent_granted(
        "C-1", occurred_at="2023-02-01T00:00:00Z", data={"notice_version": "2021-06-03"}
    )
    result = f.append(ledger, named)
    consent = ledger.stream(ledger.subject_id("C-1"))[-2]
    assert (consent.type, consent.data.notice_version) == ("ConsentGranted", "2021-06-03")
    # named after 2023-01-01 took effect: recorded, and flagged (issue 12)
    assert [x["rule"] for x in result.findings] == ["consent_under_wrong_notice"]
    wrong = f.consent_granted(
        "C-1",
        purpose="research",
        occurred_at="2023-02-01T00:00:00Z",
        data={"notice_version": "2021-06-03"},
    )
    with pytest.raises(
        BatchRejected,
        match=re.escape("1 problem(s); line 1: data.notice_version: purpose_not_in_notice"),
    ) as refused:
        f.append(ledger, wrong)
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("data.notice_version", "purpose_not_in_notice")
    ]


def test_a_version_cannot_take_effect_before_the_latest_one(ledger: Ledger) -> None:
    definition = with_research(ledger.notices.versions[0].definition)
    with pytest.raises(ConfigurationError, match="must be after"):
        ledger.publish_notice(definition, "d" * 64, effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    assert len(ledger.notices.versions) == 1


def test_a_version_label_is_published_once(ledger: Ledger) -> None:
    definition = ledger.notices.versions[0].definition
    with pytest.raises(ConfigurationError, match="already published"):
        ledger.publish_notice(definition, "d" * 64, effective_from=V2_FROM)


def test_another_process_sees_a_newly_published_version(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    other = Ledger(parse_store_url(store_url), key_source)
    assert len(other.notices.versions) == 1
    ledger.publish_notice(
        with_research(ledger.notices.versions[0].definition),
        "d" * 64,
        effective_from=V2_FROM,
    )
    f.append(other, f.subject_registered("C-1"))
    f.append(other, f.consent_granted("C-1", purpose="research"))
    assert [n.version for n in other.notices.versions] == ["2021-06-03", "2023-01-01"]
    other.close()


def test_initialising_twice_is_an_error_that_changes_nothing(
    ledger: Ledger,
    store_url: str,
    key_source: MasterKeySource,
    register: DefinitionFile,
) -> None:
    before = ledger.recorder.max_notification_id()
    store = parse_store_url(store_url)
    message = f"{store.redacted()} is already initialised; nothing was changed"
    with pytest.raises(AlreadyInitialised, match=f"^{re.escape(message)}$"):
        Ledger.initialise(store, key_source, register.definition, register.digest)
    assert ledger.recorder.max_notification_id() == before
    assert len(ledger.notices.versions) == 1
