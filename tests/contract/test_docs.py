"""Everything listed is documented, and every event type has its three classes.

Every command and subcommand of ``ledger`` (walked from the argparse parser), every
event type, every rule code and every finding rule is named in ARCHITECTURE.md and
in the user reference ``docs/reference.md``; the reference also documents each
command's options with an example, the CLI's own problem codes and the
environment variables the package reads.
"""

from __future__ import annotations

import argparse
import re
import typing
from pathlib import Path

import pytest

from ledger.cli import EPILOG, command_parsers
from ledger.cli.common import ERROR_RULES, USAGE_ERROR
from ledger.cli.integrity import PROBLEM_RULES
from ledger.errors import Rule
from schemas import events
from schemas.events import APPENDABLE_TYPES, EVENT_TYPES, AppendLine, FindingRecordedData

ROOT = Path(__file__).parents[2]
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
DOCUMENTS = {"ARCHITECTURE.md": ARCHITECTURE, "docs/reference.md": REFERENCE}

COMMANDS = dict(command_parsers())
LEAF_COMMANDS = {name: p for name, p in COMMANDS.items() if p.get_default("run") is not None}
SHARED_OPTIONS = {"-h", "--help", "--store", "--key-file", "--json"}
FINDING_RULES = typing.get_args(FindingRecordedData.model_fields["rule"].annotation)
LEDGER_WRITTEN = {
    "NoticePublished", "FindingRecorded", "SubjectErased",
    "TokenIssued", "TokenRevoked", "PersonalDataAccessed",
}  # fmt: skip
"""Types only the ledger writes: a data class and a recorded class, no NDJSON line."""

CLI_CODES = sorted(
    {rule for _, rule in ERROR_RULES}
    | {USAGE_ERROR, "verification_failed", "no_data_in_category"}
    | {rule for _, rule in PROBLEM_RULES}
)
VERIFY_KINDS = sorted(
    set(
        re.findall(
            r'[Pp]roblem\(\s*"([a-z_]+)"',
            (ROOT / "ledger" / "evidence" / "verification.py").read_text(encoding="utf-8"),
        )
    )
)
ENVIRONMENT = sorted(
    {
        name
        for path in (ROOT / "ledger").rglob("*.py")
        for name in re.findall(r"\"(LEDGER_[A-Z_]+)\"", path.read_text(encoding="utf-8"))
    }
)


def mentions_command(text: str, command: str) -> bool:
    """A backticked span names the command: `notice list`, `notice publish|list`, ..."""
    *parents, leaf = command.split()
    for span in re.findall(r"`([^`\n]+)`", text):
        words = span.removeprefix("ledger ").split()
        if (
            len(words) > len(parents)
            and words[: len(parents)] == parents
            and leaf in words[len(parents)].split("|")
        ):
            return True
    return False


def mentions(text: str, name: str) -> bool:
    """The name appears as a backticked code span."""
    return f"`{name}`" in text


def section(command: str) -> str:
    """The reference's section of one command: its heading up to the next heading."""
    found = re.search(rf"^### `ledger {re.escape(command)}`\n(.*?)(?=^#)", REFERENCE, re.M | re.S)
    assert found is not None, f"docs/reference.md has no section ### `ledger {command}`"
    return found[1]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(document: str, command: str) -> None:
    assert mentions_command(DOCUMENTS[document], command), f"{command} is not in {document}"


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_documented(document: str, event_type: str) -> None:
    assert mentions(DOCUMENTS[document], event_type), f"{event_type} is not in {document}"


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("rule", [str(r) for r in Rule])
def test_every_rule_code_is_documented(document: str, rule: str) -> None:
    assert mentions(DOCUMENTS[document], rule), f"{rule} is not in {document}"


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("rule", FINDING_RULES)
def test_every_finding_rule_is_documented(document: str, rule: str) -> None:
    assert mentions(DOCUMENTS[document], rule), f"{rule} is not in {document}"


@pytest.mark.parametrize("rule", sorted({*CLI_CODES, *VERIFY_KINDS}))
def test_every_code_the_command_line_prints_is_in_the_reference(rule: str) -> None:
    assert mentions(REFERENCE, rule)


@pytest.mark.parametrize("name", ENVIRONMENT)
def test_every_environment_variable_is_in_the_reference(name: str) -> None:
    assert mentions(REFERENCE, name)


@pytest.mark.parametrize("command", LEAF_COMMANDS)
def test_the_reference_gives_each_command_its_options_and_an_example(command: str) -> None:
    text = section(command)
    for action in LEAF_COMMANDS[command]._actions:
        if action.option_strings:
            names = [o for o in action.option_strings if o not in SHARED_OPTIONS]
            assert all(f"`{o}" in text for o in names), f"{command}: {names}"
        elif not isinstance(action, argparse._SubParsersAction):
            assert f"`{action.dest.upper()}`" in text, f"{command}: {action.dest}"
    assert re.search(rf"```sh\n(.*\n)*?ledger {re.escape(command)}\b", text), command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_help_epilog(command: str) -> None:
    assert re.search(rf"(?<![\w-]){re.escape(command)}(?![\w-])", EPILOG), command


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_has_its_data_line_and_record_classes(event_type: str) -> None:
    record = EVENT_TYPES[event_type]
    data = getattr(events, f"{event_type}Data", None)
    line = getattr(events, f"{event_type}Line", None)
    assert record is getattr(events, event_type)
    assert data is not None, f"{event_type}Data is missing"
    assert record.model_fields["data"].annotation is data
    assert record.model_fields["type"].default == event_type
    if event_type in LEDGER_WRITTEN:
        assert line is None, f"{event_type} is written by the ledger: no {event_type}Line"
        return
    assert line is not None, f"{event_type}Line is missing"
    assert line.model_fields["data"].annotation is data
    assert typing.get_args(line.model_fields["type"].annotation) == (event_type,)


def test_the_ledger_writes_exactly_the_types_without_a_line() -> None:
    assert set(EVENT_TYPES) - APPENDABLE_TYPES == LEDGER_WRITTEN
    union = typing.get_args(typing.get_args(AppendLine)[0])
    assert {typing.get_args(m.model_fields["type"].annotation)[0] for m in union} == set(
        APPENDABLE_TYPES
    )
