"""Issue 12: ``ledger notifications`` lists what recipients are owed under GDPR Art. 19."""

from __future__ import annotations

import orjson
import pytest

from ledger.cli import run_captured
from schemas.answers import NotificationsAnswer, TrailAnswer
from tests import factories as f
from tests.cli.conftest import Append


@pytest.fixture
def restricted(store: str, append: Append) -> int:
    """C-1's data went to the print house, then processing was restricted: its position."""
    append(
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-07-02T00:00:00Z"),
        f.disclosed("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.restricted("C-1", categories=["billing"], occurred_at="2021-09-01T00:00:00Z"),
    )
    code, out, _ = run_captured(["trail", "C-1", "--json", "--store", store])
    assert code == 0
    return TrailAnswer.model_validate_json(out).events[-1].position


def test_notifications_lists_what_is_owed_until_the_recipient_is_notified(
    store: str, append: Append, restricted: int
) -> None:
    code, out, err = run_captured(["notifications", "--store", store])
    assert (code, err) == (0, "")
    event = f"#{restricted} ProcessingRestricted"
    assert out.splitlines() == [
        f"subject  recipient    kind         {'event'.ljust(len(event))}  categories  since",
        f"C-1      print-house  restriction  {event}  billing     2021-09-01T00:00:00Z",
    ]

    code, out, _ = run_captured(
        [
            "notifications",
            "--subject",
            "C-1",
            "--recipient",
            "print-house",
            "--json",
            "--store",
            store,
        ]
    )
    answer = NotificationsAnswer.model_validate_json(out)
    assert (code, answer.subject, answer.recipient) == (0, "C-1", "print-house")
    assert [(o.event.position, o.categories) for o in answer.owed] == [(restricted, ["billing"])]

    append(f.recipient_notified("C-1", restricted, reference="letter-77"))
    code, out, _ = run_captured(["notifications", "--json", "--store", store])
    assert (code, NotificationsAnswer.model_validate_json(out).owed) == (0, [])


def test_notifications_refuses_an_unknown_recipient_or_subject_in_one_line(
    store: str, restricted: int
) -> None:
    code, out, err = run_captured(
        ["notifications", "--recipient", "nobody", "--json", "--store", store]
    )
    assert (code, out) == (4, "")
    assert orjson.loads(err)["rule"] == "unknown_recipient"

    code, out, err = run_captured(
        ["notifications", "--subject", "C-404", "--json", "--store", store]
    )
    assert (code, out) == (4, "")
    assert orjson.loads(err)["rule"] == "subject_not_found"
