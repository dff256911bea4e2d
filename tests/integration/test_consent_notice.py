"""A consent and the notice it was given under, and what a negative check says (issue 12).

A consent must name the notice version in force at its grant: one published but
not yet in force, or one superseded by then, is recorded (it happened) and flagged
``consent_under_wrong_notice``. A negative ``check`` says which event ended the
basis (type, position, time) at the instant asked about, never "now".
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import Core
from ledger.domain.findings import Finding, judge_consent_notice
from ledger.domain.register import NoticeHistory, NoticeVersion
from projections.check import check
from tests import factories as f

V2_FROM = datetime(2024, 1, 1, tzinfo=UTC)


def second_version(ledger: Ledger) -> None:
    """Publish notice 2024-01-01 (the same register), in force from 2024-01-01."""
    first = ledger.notices.versions[0].definition
    ledger.publish_notice(first.model_copy(update={"version": "2024-01-01"}), "e" * 64,
                          effective_from=V2_FROM)  # fmt: skip


def _notices(register: DefinitionFile) -> NoticeHistory:
    first = register.definition
    return NoticeHistory(
        [
            NoticeVersion("2021-06-03", datetime(2021, 6, 3, tzinfo=UTC), first, "d1"),
            NoticeVersion("2024-01-01", V2_FROM, first, "d2"),
        ]
    )


@pytest.mark.parametrize(
    ("named", "at", "expected"),
    [
        pytest.param(
            "2024-01-01",
            datetime(2023, 5, 4, tzinfo=UTC),
            Finding(
                "consent_under_wrong_notice",
                "consent to 'marketing' names notice 2024-01-01, which was not yet in force at"
                " 2023-05-04T00:00:00+00:00; notice 2021-06-03 was in force",
                purpose="marketing",
                notice_version="2021-06-03",
            ),
            id="a-notice-published-but-not-yet-in-force",
        ),
        pytest.param(
            "2021-06-03",
            datetime(2024, 2, 1, tzinfo=UTC),
            Finding(
                "consent_under_wrong_notice",
                "consent to 'marketing' names notice 2021-06-03, which had been superseded at"
                " 2024-02-01T00:00:00+00:00; notice 2024-01-01 was in force",
                purpose="marketing",
                notice_version="2024-01-01",
            ),
            id="a-superseded-notice",
        ),
        pytest.param("2024-01-01", V2_FROM, None, id="the-notice-in-force-from-that-instant"),
        pytest.param("2021-06-03", datetime(2023, 12, 31, tzinfo=UTC), None, id="in-force"),
        pytest.param(None, datetime(2024, 2, 1, tzinfo=UTC), None, id="none-named-is-in-force"),
    ],
)
def test_a_consent_naming_a_notice_not_in_force_at_its_grant_is_a_finding(
    register: DefinitionFile, named: str | None, at: datetime, expected: Finding | None
) -> None:
    found = judge_consent_notice("marketing", named, at, _notices(register))

    assert found == expected


def test_a_2023_consent_naming_the_2024_notice_is_recorded_and_flagged(ledger: Ledger) -> None:
    second_version(ledger)
    f.append(ledger, f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"))

    result = f.append(
        ledger,
        f.consent_granted("C-1", occurred_at="2023-05-04T00:00:00Z",
                          data={"notice_version": "2024-01-01"}),
    )  # fmt: skip

    assert [(x["rule"], x["purpose"]) for x in result.findings] == [
        ("consent_under_wrong_notice", "marketing")
    ]
    types = [e.type for e in ledger.stream(ledger.subject_id("C-1"))]
    assert types == ["SubjectRegistered", "ConsentGranted", "FindingRecorded"]


def test_a_2024_consent_naming_the_superseded_notice_is_recorded_and_flagged(
    ledger: Ledger,
) -> None:
    second_version(ledger)
    f.append(ledger, f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"))

    result = f.append(
        ledger,
        f.consent_granted("C-1", occurred_at="2024-02-01T00:00:00Z",
                          data={"notice_version": "2021-06-03"}),
    )  # fmt: skip

    assert [x["rule"] for x in result.findings] == ["consent_under_wrong_notice"]


def test_a_consent_under_the_notice_in_force_has_no_finding(ledger: Ledger) -> None:
    second_version(ledger)
    f.append(ledger, f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"))

    result = f.append(
        ledger,
        f.consent_granted("C-1", occurred_at="2024-02-01T00:00:00Z",
                          data={"notice_version": "2024-01-01"}),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2023-02-01T00:00:00Z"),
    )  # fmt: skip

    assert result.findings == ()


def test_a_negative_check_names_the_withdrawal_that_ended_the_consent(
    core: Core, ledger: Ledger
) -> None:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2023-01-02T00:00:00Z"),
    )
    withdrawal = f.append(ledger, f.consent_withdrawn("C-1", occurred_at="2023-06-01T00:00:00Z"))

    answer = check(core.views(), "C-1", "marketing", at=datetime(2023, 7, 1, tzinfo=UTC))

    assert answer.problems == [
        "no lawful basis for 'marketing' at 2023-07-01T00:00:00Z: the consent basis ended at"
        f" 2023-06-01T00:00:00Z by ConsentWithdrawn at position {withdrawal.last_position}"
    ]


def test_a_negative_check_names_the_grant_whose_consent_expired(core: Core, ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"))
    grant = f.append(
        ledger,
        f.consent_granted("C-1", purpose="profiling", occurred_at="2023-01-02T00:00:00Z",
                          data={"expires_at": "2023-03-01T00:00:00Z"}),
    )  # fmt: skip

    answer = check(core.views(), "C-1", "profiling", at=datetime(2023, 7, 1, tzinfo=UTC))

    assert answer.problems == [
        "no lawful basis for 'profiling' at 2023-07-01T00:00:00Z: the consent basis ended at"
        f" 2023-03-01T00:00:00Z, when the consent (ConsentGranted at position"
        f" {grant.last_position}) expired"
    ]


def test_a_check_in_the_past_never_says_now(core: Core, ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"))

    answer = check(core.views(), "C-1", "profiling", at=datetime(2023, 2, 1, tzinfo=UTC))

    assert answer.problems == [
        "no lawful basis for 'profiling' at 2023-02-01T00:00:00Z: no basis had held before"
        " that instant"
    ]
    assert "now" not in " ".join(answer.problems)


def test_a_consent_under_a_notice_not_in_force_is_no_basis(core: Core, ledger: Ledger) -> None:
    second_version(ledger)
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"),
        f.consent_granted("C-1", occurred_at="2023-05-04T00:00:00Z",
                          data={"notice_version": "2024-01-01"}),
    )  # fmt: skip

    answer = core.views().basis(
        "C-1", "marketing", at=datetime(2023, 6, 1, tzinfo=UTC), known_at=None, timeline=True
    )

    assert (answer.lawful, answer.timeline) == (False, [])


def test_processing_under_such_a_consent_is_flagged_as_without_consent(ledger: Ledger) -> None:
    second_version(ledger)
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2023-01-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck-1"}, category="cookies", source="cookies",
                        occurred_at="2023-01-02T00:00:00Z"),
        f.personal_data("C-1", {"usage": "evenings"}, category="web_logs", source="web_services",
                        occurred_at="2023-01-02T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2023-05-04T00:00:00Z",
                          data={"notice_version": "2024-01-01"}),
    )  # fmt: skip

    result = f.append(ledger, f.profile_derived("C-1", occurred_at="2023-06-01T00:00:00Z"))

    assert [x["rule"] for x in result.findings] == ["processing_without_consent"]
