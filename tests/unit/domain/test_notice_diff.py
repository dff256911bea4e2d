"""What changed between two notice versions: ledger.domain.notice_diff over plain values."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ledger.domain.notice_diff import diff_notices, find_notice
from ledger.domain.register import NoticeHistory
from ledger.errors import NotKnown, Rule
from tests.unit.domain.conftest import V1_FROM, MakeNotice


def _item(raw: dict[str, Any], section: str, key: str, value: str) -> dict[str, Any]:
    item: dict[str, Any] = next(x for x in raw[section] if x[key] == value)
    return item


def test_the_same_definition_twice_has_no_changes(make_notice: MakeNotice) -> None:
    old, new = make_notice(), make_notice("2024")
    diff = diff_notices(old.definition, new.definition)
    assert not diff
    answer = diff.as_dict()
    assert (answer["old"], answer["new"], answer["changed"]) == ("2021-06-03", "2024", False)
    assert set(answer["sections"]) == {
        "controllers", "purposes", "categories", "sources", "recipients", "retention",
    }  # fmt: skip
    assert all(
        s == {"added": [], "removed": [], "changed": []} for s in answer["sections"].values()
    )


def test_a_new_basis_for_a_purpose_is_named_as_added(make_notice: MakeNotice) -> None:
    def widen(raw: dict[str, Any]) -> None:
        _item(raw, "purposes", "id", "marketing")["bases"] = ["contract", "legitimate_interests"]

    diff = diff_notices(make_notice().definition, make_notice("2024", V1_FROM, widen).definition)
    (changed,) = diff.sections["purposes"].changed
    (bases,) = changed.changes
    assert (changed.id, bases.attribute) == ("marketing", "bases")
    assert (bases.added, bases.removed) == (("legitimate_interests",), ("consent",))
    assert (bases.old, bases.new) == (["consent", "contract"], ["contract", "legitimate_interests"])


def test_added_and_removed_purposes_carry_their_whole_definition(make_notice: MakeNotice) -> None:
    def research_instead_of_development(raw: dict[str, Any]) -> None:
        raw["purposes"] = [p for p in raw["purposes"] if p["id"] != "development"] + [
            {"id": "research", "description": "Statistical research.", "bases": ["consent"]}
        ]
        for r in raw["recipients"]:
            r["purposes"] = [p for p in r["purposes"] if p != "development"]

    new = make_notice("2024", V1_FROM, research_instead_of_development)
    diff = diff_notices(make_notice().definition, new.definition)
    purposes = diff.sections["purposes"]
    assert [p["id"] for p in purposes.added] == ["research"]
    assert purposes.added[0]["bases"] == ["consent"]
    assert [p["id"] for p in purposes.removed] == ["development"]
    assert purposes.removed[0]["description"].startswith("Developing the controller's business")
    recipients = {c.id: c.changes for c in diff.sections["recipients"].changed}
    assert set(recipients) == {"it-services", "analytics-us"}
    assert recipients["analytics-us"][0].removed == ("development",)


def test_a_new_field_in_a_category_is_named_by_key(make_notice: MakeNotice) -> None:
    def add_iban(raw: dict[str, Any]) -> None:
        fields = _item(raw, "categories", "id", "billing")["fields"]
        fields["iban"] = "text"
        del fields["e_invoice_operator"]

    diff = diff_notices(make_notice().definition, make_notice("2024", V1_FROM, add_iban).definition)
    (changed,) = diff.sections["categories"].changed
    (fields,) = changed.changes
    assert (changed.id, fields.attribute) == ("billing", "fields")
    assert (fields.added, fields.removed) == (("iban",), ("e_invoice_operator",))


def test_a_shorter_retention_period_shows_both_periods(make_notice: MakeNotice) -> None:
    def shorten(raw: dict[str, Any]) -> None:
        rule = _item(raw, "retention", "category", "cookies")
        rule["period"], rule["end_of_year"] = "P6M", True

    diff = diff_notices(make_notice().definition, make_notice("2024", V1_FROM, shorten).definition)
    (changed,) = diff.sections["retention"].changed
    assert changed.id == "cookies"
    assert [(c.attribute, c.old, c.new) for c in changed.changes] == [
        ("period", "P13M", "P6M"),
        ("end_of_year", False, True),
    ]


def test_a_new_recipient_and_a_removed_source_are_listed(make_notice: MakeNotice) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["sources"] = [s for s in raw["sources"] if s["id"] != "events"]
        raw["recipients"].append(
            {"id": "insurer", "name": "Insurer", "role": "controller", "country": "SE",
             "purposes": ["billing"]}
        )  # fmt: skip

    diff = diff_notices(make_notice().definition, make_notice("2024", V1_FROM, change).definition)
    assert [r["id"] for r in diff.sections["recipients"].added] == ["insurer"]
    assert [s["id"] for s in diff.sections["sources"].removed] == ["events"]
    assert diff


def test_a_changed_statement_on_automated_decisions_is_a_notice_change(
    make_notice: MakeNotice,
) -> None:
    def decide(raw: dict[str, Any]) -> None:
        raw["automated_decisions"] = {"exists": True, "statement": "Credit checks are automated."}

    diff = diff_notices(make_notice().definition, make_notice("2024", V1_FROM, decide).definition)
    (statement,) = diff.statements
    assert statement.attribute == "automated_decisions"
    assert (statement.old["exists"], statement.new["exists"]) == (False, True)
    assert diff.as_dict()["changed"] is True


def test_the_diff_is_json_ready(make_notice: MakeNotice) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["security"] = None
        _item(raw, "purposes", "id", "billing")["controllers"] = ["0209628-8"]

    diff = diff_notices(make_notice().definition, make_notice("2024", V1_FROM, change).definition)
    answer = orjson.loads(orjson.dumps(diff.as_dict()))
    (security,) = answer["statements"]
    assert (security["attribute"], security["new"]) == ("security", None)
    (billing,) = answer["sections"]["purposes"]["changed"]
    assert billing["changes"][0] == {
        "attribute": "controllers", "old": [], "new": ["0209628-8"],
        "added": ["0209628-8"], "removed": [],
    }  # fmt: skip


def test_a_published_version_is_found_by_its_label(make_notice: MakeNotice) -> None:
    history = NoticeHistory([make_notice(), make_notice("2024")])
    assert find_notice(history, "2024").version == "2024"


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        pytest.param("2030-01", "'2030-01'", id="a-date-like-label-is-quoted"),
        pytest.param("131052-308T", "<not shown: 11 characters>", id="an-identity-code-is-not"),
    ],
)
def test_an_unknown_version_is_refused_naming_it_safely(
    make_notice: MakeNotice, asked: str, shown: str
) -> None:
    history = NoticeHistory([make_notice()])
    with pytest.raises(NotKnown, match=f"^notice version {shown} was never published$") as caught:
        find_notice(history, asked, field="old")
    assert (caught.value.rule, caught.value.field) == (Rule.UNKNOWN_NOTICE_VERSION, "old")
