"""check, lineage and disclosures (with the breach question), on both stores."""

from __future__ import annotations

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.cli import run_captured
from ledger.errors import NotKnown
from projections.check import check
from schemas.answers import DisclosuresAnswer
from tests import factories as f
from tests.factories import utc


@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    f.append(
        ledger,
        f.recipient_registered("mailer", occurred_at="2021-07-01T00:00:00Z"),
        f.recipient_registered("us-cloud", country="US", occurred_at="2021-07-01T00:00:00Z",
                               data={"safeguard": "standard_contractual_clauses",
                                     "purposes": ["marketing", "profiling"]}),
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.subject_registered("C-2", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.personal_data("C-1", {"name": "Aino Lahti"}, source="authority_registers",
                        occurred_at="2022-03-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck"}, category="cookies", source="cookies",
                        occurred_at="2021-09-01T00:00:00Z"),
        f.personal_data("C-1", {"usage": "evenings"}, category="web_logs", source="web_services",
                        occurred_at="2021-09-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2021-09-01T00:00:00Z"),
        f.profile_derived("C-1", occurred_at="2021-10-01T00:00:00Z"),
        f.disclosed("C-1", occurred_at="2021-11-01T00:00:00Z"),
        f.contract_started("C-2", occurred_at="2021-08-01T00:00:00Z"),
        f.disclosed("C-2", occurred_at="2021-12-01T00:00:00Z"),
        f.disclosed("C-2", occurred_at="2022-02-01T00:00:00Z"),
    )  # fmt: skip
    return ledger


def test_check_says_what_stands_in_the_way(core, history: Ledger) -> None:
    views = core.views()
    now = utc("2023-01-01T00:00:00")
    ok = check(views, "C-1", "marketing", at=now, recipient="mailer", categories=["customer_basic"])
    assert (ok.allowed, ok.problems) == (True, [])
    assert ok.recipient is not None
    assert (ok.recipient.country, ok.recipient.outside_eea) == ("FI", False)
    wrong = check(views, "C-1", "billing", at=now, recipient="mailer", categories=["billing"])
    assert wrong.allowed is False
    assert wrong.problems == [
        "recipient 'mailer' does not take part in 'billing'",
        "the subject has no 'billing' data",
    ]
    assert check(views, "C-2", "profiling", at=now).problems == [
        "no lawful basis for 'profiling' at 2023-01-01T00:00:00Z: no basis had held before"
        " that instant"
    ]
    abroad = check(views, "C-1", "profiling", at=now, recipient="us-cloud")
    assert abroad.allowed
    assert abroad.recipient is not None
    assert (abroad.recipient.outside_eea, abroad.recipient.safeguard) == (
        True,
        "standard_contractual_clauses",
    )
    named = check(views, "C-1", "billing", at=now, recipient="print-house")
    assert named.recipient is not None
    assert named.recipient.from_notice
    with pytest.raises(NotKnown):
        check(views, "C-1", "billing", at=now, recipient="nobody")


def test_check_sees_an_ended_recipient(core, history: Ledger) -> None:
    f.append(history, f.line("RecipientEnded", None, {"id": "mailer", "reason": "terminated"},
                           occurred_at="2022-06-01T00:00:00Z"))  # fmt: skip
    views = core.views()
    assert check(
        views, "C-1", "marketing", at=utc("2022-05-01T00:00:00"), recipient="mailer"
    ).allowed
    late = check(views, "C-1", "marketing", at=utc("2022-07-01T00:00:00"), recipient="mailer")
    assert late.problems == ["recipient 'mailer' has ended"]


def test_lineage_shows_source_changes_derivations_and_recipients(core, history: Ledger) -> None:
    answer = core.views().lineage("C-1")
    by_field = {(d.category, d.field): d for d in answer.data}
    name = by_field[("customer_basic", "name")]
    assert name.source == "authority_registers"
    assert [c.source for c in name.changes] == ["data_subject", "authority_registers"]
    assert [r["recipient"] for r in name.received_by] == ["print-house"]
    cookies = by_field[("cookies", "cookie_id")]
    assert [d["category"] for d in cookies.derived] == ["profiles"]
    assert cookies.received_by == []
    only = core.views().lineage("C-1", "cookie_id")
    assert [(d.category, d.field) for d in only.data] == [("cookies", "cookie_id")]


def test_the_breach_question_names_subjects_and_categories(core, history: Ledger) -> None:
    answer = core.views().disclosures(
        recipient="print-house", since=utc("2021-11-15T00:00:00"), until=utc("2022-03-01T00:00:00"),
        by_subject=True,
    )  # fmt: skip
    assert [d.subject for d in answer.disclosures] == ["C-2", "C-2"]
    assert answer.subjects is not None
    (hit,) = answer.subjects
    assert (hit.subject, hit.categories, hit.disclosures) == (
        "C-2",
        ["billing", "customer_basic"],
        2,
    )
    everything = core.views().disclosures(recipient="print-house")
    assert [d.subject for d in everything.disclosures] == ["C-1", "C-2", "C-2"]
    by_subject = core.views().disclosures(subject="C-1", category="billing")
    assert len(by_subject.disclosures) == 1


def test_the_commands_answer_in_json(history: Ledger, store_url: str) -> None:
    base = ["--store", store_url, "--key-file", str(history.key_source.path)]
    code, out, _ = run_captured(
        ["disclosures", "--recipient", "print-house", "--breach", "--json", *base]
    )
    assert code == 0
    assert [s.subject for s in DisclosuresAnswer.model_validate_json(out).subjects or []] == [
        "C-1",
        "C-2",
    ]
    code, out, _ = run_captured(
        ["check", "C-1", "billing", "--recipient", "mailer", "--json", *base]
    )
    assert (code, orjson.loads(out)["allowed"]) == (0, False)
    code, out, _ = run_captured(["lineage", "C-1", "--field", "name", "--json", *base])
    assert [d["field"] for d in orjson.loads(out)["data"]] == ["name"]
    code, out, _ = run_captured(["findings", "--json", *base])
    assert (code, orjson.loads(out)["findings"]) == (0, [])
