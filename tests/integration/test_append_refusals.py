"""Each refusal names the line, the field and the rule, and writes nothing."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.errors import BatchRejected
from tests import factories as f


def _with(line: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(line)
    data = dict(out["data"])
    for key, value in changes.items():
        if key.startswith("data_"):
            data[key[5:]] = value
        elif value is None:
            out.pop(key, None)
        else:
            out[key] = value
    out["data"] = data
    return out


def _without_data(line: dict[str, Any], field: str) -> dict[str, Any]:
    out = dict(line)
    out["data"] = {k: v for k, v in line["data"].items() if k != field}
    return out


CASES: list[tuple[str, Any, tuple[str | None, str]]] = [
    ("bad json", b'{"type": "SubjectRegistered",', (None, "invalid_json")),
    ("not an object", b"[1, 2]", (None, "not_an_object")),
    (
        "unknown type",
        _with(f.objection("C-1"), type="ConsentGiven"),
        ("type", "unknown_type"),
    ),
    (
        "notice via append",
        _with(f.objection("C-1"), type="NoticePublished"),
        ("type", "not_appendable"),
    ),
    ("missing type", {"actor": "crm", "data": {}}, ("type", "missing_field")),
    (
        "missing actor",
        _with(f.objection("C-1"), actor=None),
        ("actor", "missing_field"),
    ),
    (
        "missing data field",
        _without_data(f.consent_granted("C-1"), "evidence"),
        ("data.evidence", "missing_field"),
    ),
    (
        "extra envelope field",
        _with(f.objection("C-1"), extra=1),
        ("extra", "unknown_field"),
    ),
    (
        "extra data field",
        _with(f.objection("C-1"), data_reason="x"),
        ("data.reason", "unknown_field"),
    ),
    (
        "naive timestamp",
        _with(f.objection("C-1"), occurred_at="2023-05-04T10:00:00"),
        ("occurred_at", "timestamp_without_offset"),
    ),
    (
        "date only",
        _with(f.objection("C-1"), occurred_at="2023-05-04"),
        ("occurred_at", "invalid_timestamp"),
    ),
    (
        "impossible date",
        _with(f.objection("C-1"), occurred_at="2023-02-30T10:00:00Z"),
        ("occurred_at", "invalid_timestamp"),
    ),
    (
        "naive expiry",
        f.consent_granted("C-1", data={"expires_at": "2030-01-01T00:00:00"}),
        ("data.expires_at", "timestamp_without_offset"),
    ),
    (
        "future",
        _with(f.objection("C-1"), occurred_at="2031-01-01T00:00:00Z"),
        ("occurred_at", "occurred_in_future"),
    ),
    (
        "before any notice",
        _with(f.objection("C-1"), occurred_at="2019-01-01T00:00:00Z"),
        ("occurred_at", "no_notice_in_force"),
    ),
    (
        "bad business id",
        _with(f.contract_started("C-1"), data_controller="0209628-7"),
        ("data.controller", "invalid_business_id"),
    ),
    (
        "business id remainder 1",
        _with(f.contract_started("C-1"), data_controller="0000015-0"),
        ("data.controller", "invalid_business_id"),
    ),
    (
        "unknown controller",
        _with(f.contract_started("C-1"), data_controller="0737546-2"),
        ("data.controller", "unknown_controller"),
    ),
    (
        "unknown purpose",
        f.objection("C-1", purpose="astrology"),
        ("data.purpose", "unknown_purpose"),
    ),
    (
        "consent for a contract-only purpose",
        f.consent_granted("C-1", purpose="billing"),
        ("data.purpose", "consent_not_a_basis"),
    ),
    (
        "unknown notice version",
        f.consent_granted("C-1", data={"notice_version": "1999"}),
        ("data.notice_version", "unknown_notice_version"),
    ),
    (
        "expiry before grant",
        f.consent_granted("C-1", data={"expires_at": "2020-01-01T00:00:00Z"}),
        ("data.expires_at", "expires_before_grant"),
    ),
    (
        "unknown category",
        f.personal_data("C-1", category="dna"),
        ("data.category", "unknown_category"),
    ),
    (
        "derived category recorded directly",
        f.personal_data("C-1", {"segment": "x"}, category="profiles"),
        ("data.category", "category_derived"),
    ),
    (
        "profile into a plain category",
        _with(f.profile_derived("C-1"), data_category="cookies"),
        ("data.category", "category_not_derived"),
    ),
    (
        "unknown data field",
        f.personal_data("C-1", {"shoe_size": "44"}),
        ("data.fields.shoe_size", "unknown_data_field"),
    ),
    (
        "wrong check character",
        f.personal_data("C-1", {"personal_identity_code": "131052-308U"}),
        ("data.fields.personal_identity_code", "invalid_personal_identity_code"),
    ),
    (
        "wrong century sign",
        f.personal_data("C-1", {"personal_identity_code": "131052G308T"}),
        ("data.fields.personal_identity_code", "invalid_personal_identity_code"),
    ),
    ("no fields", f.personal_data("C-1", {}), ("data.fields", "missing_field")),
    (
        "missing source",
        _with(f.personal_data("C-1"), source=None),
        ("source", "missing_source"),
    ),
    (
        "unknown source",
        f.personal_data("C-1", source="rumours"),
        ("source", "unknown_source"),
    ),
    (
        "unknown recipient",
        f.disclosed("C-1", recipient="nobody"),
        ("data.recipient", "unknown_recipient"),
    ),
    (
        "transfer without safeguard",
        f.recipient_registered("us-cloud", country="US"),
        ("data.safeguard", "transfer_without_safeguard"),
    ),
    (
        "recipient with unknown purpose",
        f.recipient_registered(data={"purposes": ["astrology"]}),
        ("data.purposes.0", "unknown_purpose"),
    ),
    (
        "subject is a number",
        _with(f.objection("C-1"), subject=1001),
        ("subject", "invalid_value"),
    ),
    (
        "bad kind",
        _with(f.subject_registered("C-2"), data_kind="robot"),
        ("data.kind", "invalid_value"),
    ),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_line_is_refused_with_its_field_and_rule(
    ledger: Ledger, line: Any, expected: tuple[str | None, str]
) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    before = ledger.recorder.max_notification_id()
    good = orjson.dumps(f.contract_started("C-1"))
    raw = line if isinstance(line, bytes) else orjson.dumps(line)
    field, rule = expected
    message = f"1 problem(s); line 2: {field}: {rule}"
    with pytest.raises(BatchRejected, match=f"^{re.escape(message)}$") as refused:
        ledger.append_batch([good, raw, good])
    found = [(v.line, v.field, v.rule) for v in refused.value.violations]
    assert found == [(2, *expected)]
    assert ledger.recorder.max_notification_id() == before


def test_no_refusal_message_quotes_a_personal_identity_code(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    bad = f.personal_data("C-1", {"personal_identity_code": "131052-308U"})
    message = (
        "1 problem(s); line 1: data.fields.personal_identity_code: invalid_personal_identity_code"
    )
    with pytest.raises(BatchRejected, match=f"^{re.escape(message)}$") as refused:
        f.append(ledger, bad)
    text = orjson.dumps([v.as_dict() for v in refused.value.violations]).decode()
    assert "131052" not in text
    assert "131052" not in str(refused.value)


def test_every_problem_of_a_batch_is_reported_at_once(ledger: Ledger) -> None:
    lines = [
        f.subject_registered("C-1"),
        f.objection("C-1", purpose="astrology"),
        f.contract_started("C-1"),
        f.personal_data("C-1", source="rumours"),
    ]
    with pytest.raises(
        BatchRejected, match=re.escape("2 problem(s); line 2: data.purpose: unknown_purpose")
    ) as refused:
        f.append(ledger, *lines)
    assert [(v.line, v.rule) for v in refused.value.violations] == [
        (2, "unknown_purpose"),
        (4, "unknown_source"),
    ]


def test_a_profile_must_be_derived_from_data_the_subject_has(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    cookies = f.personal_data("C-1", {"cookie_id": "ck-1"}, category="cookies", source="cookies")
    message = "1 problem(s); line 2: data.derived_from.1: derived_from_missing_data"
    with pytest.raises(BatchRejected, match=f"^{re.escape(message)}$") as refused:
        f.append(ledger, cookies, f.profile_derived("C-1"))
    assert [(v.line, v.field, v.rule) for v in refused.value.violations] == [
        (2, "data.derived_from.1", "derived_from_missing_data")
    ]
    logs = f.personal_data("C-1", {"usage": "evenings"}, category="web_logs", source="web_services")
    f.append(ledger, cookies, logs)
    assert f.append(ledger, f.profile_derived("C-1")).appended == 1
