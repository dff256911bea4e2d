"""``ledger notice show`` and ``notice diff`` on each store: the notice readable over time."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ledger.cli import run_captured
from tests.conftest import EXAMPLE_REGISTER

V1, V2 = "2021-06-03", "2024-01"


@pytest.fixture
def store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store with the example register (2021-06-03) and a second version, 2024-01.

    2024-01 lets marketing rest on legitimate interests instead of consent, keeps
    cookie data 6 months instead of 13, adds an insurer as recipient and drops the
    events source.
    """
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(tmp_path / "keys" / "l.master.key"))
    code, _, err = run_captured(["init", "--store", store_url, "--register", str(EXAMPLE_REGISTER)])
    assert (code, err) == (0, "")
    text = EXAMPLE_REGISTER.read_text(encoding="utf-8")
    for old, new in (
        (f'version = "{V1}"', f'version = "{V2}"'),
        ('bases = ["consent", "contract"]', 'bases = ["contract", "legitimate_interests"]'),
        ('period = "P13M"', 'period = "P6M"'),
        ('[[sources]]\nid = "events"\ndescription = "Participation in events."\n', ""),
        ("[[retention]]", '[[recipients]]\nid = "insurer"\nname = "Insurer"\nrole = "controller"'
         '\ncountry = "SE"\npurposes = ["billing"]\n\n[[retention]]'),
    ):  # fmt: skip
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "v2.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_captured(
        ["notice", "publish", str(path), "--store", store_url,
         "--effective-from", "2024-01-01T00:00:00Z"]
    )  # fmt: skip
    assert (code, err) == (0, "")
    return store_url


def test_notice_show_json_gives_the_definition_as_published(store: str) -> None:
    code, out, err = run_captured(["notice", "show", V1, "--json", "--store", store])
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    assert (answer["notice_version"], answer["effective_from"]) == (V1, "2021-06-02T21:00:00Z")
    _, listed, _ = run_captured(["notice", "list", "--json", "--store", store])
    assert answer["digest"] == orjson.loads(listed)[0]["digest"]
    definition = answer["definition"]
    assert definition["version"] == V1
    marketing = next(p for p in definition["purposes"] if p["id"] == "marketing")
    assert marketing["bases"] == ["consent", "contract"]
    assert marketing["controllers"] == ["0209628-8"]
    assert definition["automated_decisions"]["exists"] is False


def test_notice_show_text_speaks_the_register_s_words(store: str) -> None:
    code, out, err = run_captured(["notice", "show", V2, "--store", store])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("notice 2024-01: Vaasan Sähkö group's customer register")
    assert lines[1].startswith("effective from 2024-01-01T00:00:00Z; digest ")
    at = lines.index("  marketing: Marketing, advertising and distance selling of the controller's"
                     " products and services.")  # fmt: skip
    assert lines[at + 1] == "    bases: contract, legitimate_interests; controllers: 0209628-8"
    assert "    fields: name (text), personal_identity_code (personal_identity_code)" in lines
    assert "  insurer: Insurer (controller, SE)" in lines
    assert "  cookies: P6M from recording" in lines
    assert lines[-1] == (
        "automated decisions: none: The register's data are not used for automated decision-making."
    )


def test_notice_diff_json_names_what_was_added_removed_and_changed(store: str) -> None:
    code, out, err = run_captured(["notice", "diff", V1, V2, "--json", "--store", store])
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    assert (answer["old"], answer["new"], answer["changed"]) == (V1, V2, True)
    assert (answer["old_effective_from"], answer["new_effective_from"]) == (
        "2021-06-02T21:00:00Z", "2024-01-01T00:00:00Z",
    )  # fmt: skip
    sections = answer["sections"]
    (marketing,) = sections["purposes"]["changed"]
    assert marketing["id"] == "marketing"
    assert [(c["attribute"], c["added"], c["removed"]) for c in marketing["changes"]] == [
        ("bases", ["legitimate_interests"], ["consent"])
    ]
    assert [r["id"] for r in sections["recipients"]["added"]] == ["insurer"]
    assert [s["id"] for s in sections["sources"]["removed"]] == ["events"]
    (cookies,) = sections["retention"]["changed"]
    assert (cookies["id"], cookies["changes"][0]["old"], cookies["changes"][0]["new"]) == (
        "cookies", "P13M", "P6M",
    )  # fmt: skip
    assert sections["categories"] == {"added": [], "removed": [], "changed": []}
    assert answer["statements"] == []


def test_notice_diff_text_marks_each_change(store: str) -> None:
    code, out, err = run_captured(["notice", "diff", V1, V2, "--store", store])
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "notice 2021-06-03 -> 2024-01",
        "purposes:",
        "  ~ marketing",
        "      bases: +legitimate_interests -consent",
        "sources:",
        "  - events: Participation in events.",
        "recipients:",
        "  + insurer: Insurer",
        "retention:",
        "  ~ cookies",
        "      period: P13M -> P6M",
        "unchanged: controllers, categories",
    ]


def test_a_version_compared_with_itself_has_no_changes(store: str) -> None:
    code, out, _ = run_captured(["notice", "diff", V2, V2, "--store", store])
    assert (code, out) == (0, "notice 2024-01 -> 2024-01\nno changes\n")


@pytest.mark.parametrize(
    ("argv", "field", "shown"),
    [
        pytest.param(["show", "2030-01"], "version", "'2030-01'", id="show"),
        pytest.param(["diff", "2020", V2], "old", "'2020'", id="diff-old"),
        pytest.param(["diff", V1, "131052-308T"], "new", "<not shown: 11 characters>",
                     id="diff-new-looks-like-an-identity-code"),
    ],
)  # fmt: skip
def test_an_unknown_version_exits_4_naming_it_safely(
    store: str, argv: list[str], field: str, shown: str
) -> None:
    message = f"notice version {shown} was never published"
    code, out, err = run_captured(["notice", *argv, "--store", store])
    assert (code, out, err) == (4, "", f"ledger: {message}\n")
    code, out, err = run_captured(["notice", *argv, "--json", "--store", store])
    assert (code, out) == (4, "")
    expected = {"rule": "unknown_notice_version", "field": field, "message": message}
    assert orjson.loads(err) == expected
