"""``ledger token create|list|revoke``, ``ledger access-log`` and recorded CLI reads."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.access.tokens import TokenRegistry
from ledger.bootstrap import Core, bootstrap
from ledger.cli import access as cli_access
from ledger.cli import run_captured
from ledger.clock import SystemClock
from ledger.errors import WriteConflict
from tests import factories as f
from tests.access.test_tokens import holds
from tests.cli.conftest import Append
from tests.rights.test_erasure import store_bytes


def ok(*argv: str) -> Any:
    code, out, err = run_captured([*argv, "--json"])
    assert (code, err) == (0, ""), err
    return orjson.loads(out)


def refused(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_captured([*argv, "--json"])
    assert out == ""
    (line,) = err.splitlines()
    return code, orjson.loads(line)


@pytest.fixture
def core(store: str) -> Iterator[Core]:
    opened = bootstrap(store)
    yield opened
    opened.close()


@pytest.fixture
def customer(store: str, append: Append) -> str:
    append(f.subject_registered("C-1"), f.personal_data("C-1"))
    return store


def test_token_create_prints_the_contracts_four_fields_once(store: str, core: Core) -> None:
    issued = ok("token", "create", "--name", "billing", "--role", "service", "--store", store)
    assert set(issued) == {"id", "name", "role", "token"}
    assert (issued["name"], issued["role"]) == ("billing", "service")
    now = SystemClock().now()
    principal = TokenRegistry(core.ledger).authenticate(issued["token"], now)
    assert principal is not None
    assert principal.token_id == issued["id"]
    stored = store_bytes(store)
    assert holds(stored, issued["id"])
    assert not holds(stored, issued["token"])


def test_token_create_without_json_still_shows_the_token(store: str) -> None:
    code, out, err = run_captured(["token", "create", "--name", "dpo-anna", "--role", "dpo",
                                   "--store", store])  # fmt: skip
    assert (code, err) == (0, "")
    first, _, token = out.splitlines()
    assert first.startswith("token tok_")
    assert first.endswith("for dpo-anna (dpo) created.")
    assert token.startswith("lgr_")


def test_token_list_never_shows_a_token_and_revoke_ends_it(store: str, core: Core) -> None:
    types = "ConsentGranted,DataProcessed"
    issued = ok("token", "create", "--name", "billing", "--role", "service", "--types", types,
                "--sources", "web_forms", "--store", store)  # fmt: skip
    ok("token", "create", "--name", "auditor-1", "--role", "auditor", "--expires",
       "2999-01-01T00:00:00Z", "--store", store)  # fmt: skip
    code, out, _ = run_captured(["token", "list", "--store", store, "--json"])
    assert code == 0
    assert issued["token"] not in out
    listed = orjson.loads(out)["tokens"]
    assert [(t["name"], t["types"], t["sources"], t["expires_at"], t["revoked_at"])
            for t in listed] == [
        ("billing", ["ConsentGranted", "DataProcessed"], ["web_forms"], None, None),
        ("auditor-1", None, None, "2999-01-01T00:00:00Z", None),
    ]  # fmt: skip
    assert set(listed[0]) == {"id", "name", "role", "types", "sources", "expires_at",
                              "created_at", "revoked_at"}  # fmt: skip
    revoked = ok("token", "revoke", issued["id"], "--store", store)
    assert revoked["revoked_at"] is not None
    assert TokenRegistry(core.ledger).authenticate(issued["token"], SystemClock().now()) is None
    code, out, _ = run_captured(["token", "list", "--store", store])
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "name", "role", "types", "sources",
                                           "expires_at", "created_at", "revoked_at"]  # fmt: skip
    assert "ConsentGranted, DataProcessed" in out


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        (["--role", "boss"], "--role", "usage_error"),
        (["--role", "service", "--types", "NoticePublished"], "--types", "not_appendable"),
        (["--role", "service", "--types", ""], "--types", "invalid_value"),
        (["--role", "service", "--sources", "nowhere"], "--sources", "unknown_source"),
        (["--role", "dpo", "--types", "ConsentGranted"], "--types", "restriction_not_for_role"),
        (["--role", "dpo", "--expires", "2020-01-01T00:00:00Z"], "--expires", "expiry_in_past"),
        (["--role", "dpo", "--expires", "tomorrow"], "--expires", "usage_error"),
    ],
)
def test_a_bad_token_create_is_a_usage_error_naming_the_option(
    store: str, options: list[str], field: str, rule: str
) -> None:
    code, problem = refused("token", "create", "--name", "x", *options, "--store", store)
    assert (code, problem["field"], problem["rule"]) == (2, field, rule)
    assert ok("token", "list", "--store", store)["tokens"] == []


def test_revoking_an_unknown_token_is_not_found(store: str) -> None:
    code, problem = refused("token", "revoke", "tok_0000000000000000", "--store", store)
    assert (code, problem["rule"]) == (4, "not_found")


def test_a_subject_read_is_in_the_access_log_with_the_os_user_and_purpose(customer: str) -> None:
    answer = ok("subject", "C-1", "--purpose", "support case 311", "--store", customer)
    assert answer["fields"]["customer_basic"]["name"]["value"] == "Aino Virtanen"
    log = ok("access-log", "--store", customer)
    (record,) = log["records"]
    assert {k: record[k] for k in ("subject", "actor", "token_id", "via", "what", "categories",
                                   "purpose")} == {
        "subject": "C-1", "actor": getpass.getuser(), "token_id": None, "via": "cli",
        "what": "subject", "categories": ["customer_basic"], "purpose": "support case 311",
    }  # fmt: skip
    trail = ok("trail", "C-1", "--store", customer)["events"]
    last = trail[-1]
    assert (last["type"], last["position"]) == ("PersonalDataAccessed", record["position"])
    assert ok("verify", "--store", customer)["ok"]


def test_an_export_is_recorded_with_the_default_purpose(customer: str, tmp_path: Path) -> None:
    output = tmp_path / "export.json"
    code, _, err = run_captured(["export", "C-1", "--output", str(output), "--store", customer])
    assert (code, err) == (0, "")
    (record,) = ok("access-log", "--subject", "C-1", "--store", customer)["records"]
    assert (record["what"], record["purpose"], record["categories"]) == (
        "export", "not stated", ["customer_basic"],
    )  # fmt: skip
    code, out, _ = run_captured(["access-log", "--store", customer])
    assert code == 0
    assert out.splitlines()[0].split() == ["position", "occurred_at", "subject", "actor", "via",
                                           "what", "categories", "purpose"]  # fmt: skip
    assert "not stated" in out


def test_the_access_log_since_an_instant_leaves_earlier_reads_out(customer: str) -> None:
    ok("subject", "C-1", "--store", customer)
    later = ok("access-log", "--since", "2999-01-01T00:00:00Z", "--store", customer)
    earlier = ok("access-log", "--since", "2000-01-01T00:00:00Z", "--store", customer)
    assert (len(later["records"]), len(earlier["records"])) == (0, 1)


@pytest.mark.parametrize("purpose", ["tab\there", "", " x", "x" * 501])
def test_a_bad_purpose_is_refused_before_anything_is_read(customer: str, purpose: str) -> None:
    for command in (["subject", "C-1"], ["export", "C-1"]):
        code, problem = refused(*command, "--purpose", purpose, "--store", customer)
        assert (code, problem["field"]) == (2, "--purpose")
        assert problem["rule"] in {"invalid_character", "invalid_value"}
    assert ok("access-log", "--store", customer)["records"] == []


def test_when_the_read_cannot_be_recorded_nothing_is_shown(
    customer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> list[int]:
        msg = "other writers kept appending to the subject; the read was not recorded: retry"
        raise WriteConflict(msg)

    monkeypatch.setattr(cli_access, "record_accesses", fail)
    output = tmp_path / "export.html"
    for command in (["subject", "C-1"], ["subject", "C-1", "--json"],
                    ["export", "C-1"], ["export", "C-1", "--format", "html",
                                        "--output", str(output)]):  # fmt: skip
        code, out, err = run_captured([*command, "--store", customer])
        assert (code, out) == (7, ""), command
        assert "Aino" not in err
        assert "not recorded" in err
    assert not output.exists()
