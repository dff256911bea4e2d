"""Reads of decrypted personal data: a stated purpose, recorded before they are shown."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from tests.service.conftest import DEMO_VALUES, NAME, PURPOSE, Tokens, bearer
from tests.service.test_roles import CALLS, MAY, send


def test_a_dpo_reading_a_subject_is_recorded_in_the_access_log_and_the_subjects_stream(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = client.get("/v1/subjects/C-1001", headers=bearer(tokens.dpo) | PURPOSE)
    assert response.status_code == 200
    assert response.json()["fields"]["customer_basic"]["name"]["value"] == NAME
    log = client.get("/v1/access-log?subject=C-1001", headers=bearer(tokens.auditor)).json()
    (record,) = log["records"]
    assert record | {"position": 0, "occurred_at": None, "token_id": None} == {
        "position": 0, "occurred_at": None, "subject": "C-1001", "actor": "dpo-desk",
        "token_id": None, "via": "http", "what": "subject", "categories": ["customer_basic"],
        "purpose": PURPOSE["X-Access-Purpose"],
    }  # fmt: skip
    assert record["token_id"].startswith("tok_")
    trail = client.get("/v1/subjects/C-1001/trail", headers=bearer(tokens.auditor)).json()
    assert trail["events"][-1]["position"] == record["position"]
    assert trail["events"][-1]["type"] == "PersonalDataAccessed"


@pytest.mark.parametrize("form", ["json", "html"])
def test_an_export_is_recorded_before_it_is_sent(
    client: TestClient, tokens: Tokens, seeded: str, form: str
) -> None:
    response = client.get(
        f"/v1/subjects/C-1001/export?format={form}", headers=bearer(tokens.dpo) | PURPOSE
    )
    assert response.status_code == 200
    assert NAME in response.text
    assert response.headers["content-type"].startswith(
        f"{'text' if form == 'html' else 'application'}/{form}"
    )
    log = client.get("/v1/access-log", headers=bearer(tokens.dpo)).json()
    assert [(r["what"], r["categories"]) for r in log["records"]] == [
        ("export", ["customer_basic"])
    ]


def test_when_recording_the_read_fails_nothing_is_shown(
    client: TestClient, tokens: Tokens, seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> list[int]:
        raise RuntimeError("the log is full")

    monkeypatch.setattr("ledger.service.routes_personal.record_accesses", refuse)
    response = client.get("/v1/subjects/C-1001", headers=bearer(tokens.dpo) | PURPOSE)
    assert response.status_code == 500
    assert not any(value in response.text for value in DEMO_VALUES)


def test_an_auditor_sees_no_decrypted_value_in_any_answer(
    client: TestClient, tokens: Tokens, seeded: str, core: Core
) -> None:
    client.get("/v1/subjects/C-1001", headers=bearer(tokens.dpo) | PURPOSE)  # a read to list
    seen = 0
    for call in CALLS:
        response = send(client, call, tokens.auditor)
        if call.action in MAY["auditor"]:
            assert response.status_code == 200, (call, response.text)
            seen += 1
        for value in DEMO_VALUES:
            assert value not in response.text, call
    assert seen == 10


def test_a_service_token_cannot_read_personal_data_even_with_a_purpose(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = client.get("/v1/subjects/C-1001", headers=bearer(tokens.service) | PURPOSE)
    assert response.status_code == 403
    assert NAME not in response.text
    log = client.get("/v1/access-log", headers=bearer(tokens.dpo)).json()
    assert log["records"] == []
