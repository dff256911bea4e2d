"""Every 4xx of the contract, and 503 and 500, as problem details on both stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.access.tokens import issue_token, list_tokens, revoke_token
from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import Core, initialise
from ledger.clock import FixedClock
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from tests.factories import consent_granted, subject_registered
from tests.reliability.test_faults import _Proxy
from tests.service.conftest import DEMO_VALUES, Tokens, bearer

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, rule: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    assert body["status"] == status
    assert body["errors"][0]["rule"] == rule, body
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return body


def ndjson(*lines: dict) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


# --- 400 ------------------------------------------------------------------------------


def test_a_question_without_a_required_parameter_is_400_naming_it(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = client.get("/v1/subjects/C-1001/basis", headers=bearer(tokens.dpo))
    assert_problem(response, 400, "missing", "purpose")


def test_an_instant_without_an_offset_is_400_naming_the_parameter(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = client.get(
        "/v1/subjects/C-1001/basis?purpose=billing&at=2024-01-01T00:00:00",
        headers=bearer(tokens.dpo),
    )
    assert_problem(response, 400, "timestamp_without_offset", "at")


def test_a_json_body_that_is_not_json_is_400(client: TestClient, tokens: Tokens) -> None:
    headers = bearer(tokens.service) | {"Content-Type": "application/json"}
    response = client.post("/v1/events", content=b"[{", headers=headers)
    assert_problem(response, 400, "invalid_json")


def test_a_json_body_that_is_not_an_array_is_400(client: TestClient, tokens: Tokens) -> None:
    response = client.post("/v1/events", json={"type": "x"}, headers=bearer(tokens.service))
    assert_problem(response, 400, "not_an_array")


def test_a_check_with_an_unknown_field_is_400_naming_it(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    body = {"subject": "C-1001", "purpose": "billing", "colour": "red"}
    response = client.post("/v1/check", json=body, headers=bearer(tokens.service))
    assert_problem(response, 400, "extra_forbidden", "colour")


def test_reading_personal_data_without_a_purpose_is_400(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    for path in ("/v1/subjects/C-1001", "/v1/subjects/C-1001/export"):
        response = client.get(path, headers=bearer(tokens.dpo))
        body = assert_problem(response, 400, "missing_access_purpose", "X-Access-Purpose")
        assert not any(value in response.text for value in DEMO_VALUES)
        assert "X-Access-Purpose" in body["detail"]


def test_a_purpose_with_a_line_break_is_400_and_not_echoed(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    headers = bearer(tokens.dpo) | {"X-Access-Purpose": "why\tnot"}
    response = client.get("/v1/subjects/C-1001", headers=headers)
    assert_problem(response, 400, "invalid_character", "X-Access-Purpose")
    assert "why" not in response.text


def test_an_unknown_purpose_in_a_question_is_404_naming_the_parameter(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = client.get("/v1/subjects/C-1001/basis?purpose=astrology", headers=bearer(tokens.dpo))
    assert_problem(response, 404, "unknown_purpose", "purpose")


# --- 401 ------------------------------------------------------------------------------


def test_an_unknown_token_is_401_with_a_challenge(client: TestClient) -> None:
    response = client.get("/v1/findings", headers=bearer("lgr_" + "x" * 43))
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == 'Bearer realm="ledger"'


def test_a_revoked_token_is_refused_within_the_registry_refresh(
    client: TestClient, core: Core, tokens: Tokens
) -> None:
    assert client.get("/v1/findings", headers=bearer(tokens.auditor)).status_code == 200
    (info,) = [i for i in _token_list(core) if i.name == "outside-auditor"]
    revoke_token(core.ledger, info.id, actor="test")
    deadline = time.monotonic() + 3
    while client.get("/v1/findings", headers=bearer(tokens.auditor)).status_code != 401:
        assert time.monotonic() < deadline, "a revoked token still opened the ledger"
        time.sleep(0.1)


def test_an_expired_token_is_401(client: TestClient, core: Core, clock: FixedClock) -> None:
    _, token = issue_token(
        core.ledger, name="short", role="auditor", actor="test",
        expires_at=clock.now() + timedelta(minutes=5),
    )  # fmt: skip
    assert client.get("/v1/findings", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(minutes=6))
    assert_problem(client.get("/v1/findings", headers=bearer(token)), 401, "unauthenticated")


def _token_list(core: Core) -> list:
    return list_tokens(core.ledger)


# --- 403 for a limited service token ------------------------------------------------


def test_a_service_token_is_refused_a_type_it_was_not_given_naming_the_type(
    client: TestClient, tokens: Tokens
) -> None:
    body = ndjson(subject_registered("C-9"))
    response = client.post("/v1/events", content=body, headers=bearer(tokens.consent_only))
    problem = assert_problem(response, 403, "not_allowed_for_token", "type")
    assert "SubjectRegistered" in problem["errors"][0]["message"]
    assert problem["errors"][0]["line"] == 1
    trail = client.get("/v1/subjects/C-9/trail", headers=bearer(tokens.dpo))
    assert trail.status_code == 404  # nothing was appended


def test_a_service_token_is_refused_a_source_it_was_not_given_naming_the_source(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    allowed = consent_granted("C-1001", source="web_forms")
    refused = consent_granted("C-1001", source="cookies", purpose="profiling")
    response = client.post(
        "/v1/events", content=ndjson(allowed, refused), headers=bearer(tokens.consent_only)
    )
    problem = assert_problem(response, 403, "not_allowed_for_token", "source")
    assert [e["line"] for e in problem["errors"]] == [2]
    assert "cookies" in problem["errors"][0]["message"]
    ok = client.post("/v1/events", content=ndjson(allowed), headers=bearer(tokens.consent_only))
    assert ok.status_code == 200, ok.text
    assert ok.json()["appended"] == 1


# --- 404 ------------------------------------------------------------------------------


def test_an_unknown_subject_is_404(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/v1/subjects/C-404/trail", headers=bearer(tokens.auditor))
    assert_problem(response, 404, "subject_not_found")


def test_an_unknown_route_is_404_as_problem_details(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")


def test_an_inclusion_proof_of_a_position_not_in_the_log_is_404(
    client: TestClient, tokens: Tokens
) -> None:
    response = client.get("/v1/log/proof/inclusion?position=999", headers=bearer(tokens.auditor))
    assert_problem(response, 404, "not_found")


# --- 413 ------------------------------------------------------------------------------


@pytest.fixture
def small_body(core: Core) -> Iterator[TestClient]:
    app = create_app(core, ServiceSettings(max_body_bytes=200))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_body_over_the_limit_is_413_by_its_length(small_body: TestClient, tokens: Tokens) -> None:
    body = ndjson(*[subject_registered(f"C-{i}") for i in range(5)])
    response = small_body.post("/v1/events", content=body, headers=bearer(tokens.service))
    assert_problem(response, 413, "body_too_large")


def test_a_chunked_body_over_the_limit_is_413_as_it_arrives(
    small_body: TestClient, tokens: Tokens, core: Core
) -> None:
    def chunks() -> Iterator[bytes]:
        for i in range(5):
            yield ndjson(subject_registered(f"C-{i}"))

    response = small_body.post("/v1/events", content=chunks(), headers=bearer(tokens.service))
    assert_problem(response, 413, "body_too_large")
    trail = small_body.get("/v1/subjects/C-0/trail", headers=bearer(tokens.auditor))
    assert trail.status_code == 404  # nothing was appended


# --- 422 ------------------------------------------------------------------------------


def test_a_rejected_request_is_422_with_each_violation_and_nothing_appended(
    client: TestClient, tokens: Tokens
) -> None:
    good = subject_registered("C-5")
    bad = consent_granted("C-5", purpose="astrology")
    response = client.post("/v1/events", content=ndjson(good, bad), headers=bearer(tokens.service))
    problem = assert_problem(response, 422, "unknown_purpose")
    assert problem["errors"][0] | {"message": None} == {
        "line": 2, "type": "ConsentGranted", "field": "data.purpose",
        "rule": "unknown_purpose", "message": None,
    }  # fmt: skip
    trail = client.get("/v1/subjects/C-5/trail", headers=bearer(tokens.auditor))
    assert trail.status_code == 404


# --- 429 ------------------------------------------------------------------------------


def test_a_token_past_its_rate_gets_429_with_retry_after(core: Core, tokens: Tokens) -> None:
    app = create_app(core, ServiceSettings(rate_limit=0.5, rate_burst=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        statuses = [client.get("/v1/findings", headers=bearer(tokens.auditor)) for _ in range(3)]
        assert [r.status_code for r in statuses[:2]] == [200, 200]
        assert_problem(statuses[2], 429, "too_many_requests")
        assert int(statuses[2].headers["retry-after"]) >= 1
        other = client.get("/v1/findings", headers=bearer(tokens.dpo))
        assert other.status_code == 200  # the limit is per token


# --- 503 and 500 ----------------------------------------------------------------------


@pytest.fixture
def doomed(
    store_url: str, register: DefinitionFile, key_source: MasterKeySource, clock: FixedClock
) -> Iterator[tuple[Core, object]]:
    """A core whose store can be taken away: (core, take it away)."""
    config = parse_store_url(store_url)
    if config.sqlite_path is not None:
        core = initialise(store_url, register, key_file=key_source.path, clock=clock)
        path = config.sqlite_path

        def corrupt() -> None:  # the file, its log and its index: garbage
            for each in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                if each.exists():
                    with each.open("r+b") as f:
                        f.write(b"\xff" * min(each.stat().st_size, 1 << 20))

        yield core, corrupt
        return
    proxy = _Proxy(config.env["POSTGRES_HOST"], int(config.env["POSTGRES_PORT"]))
    host = f"@{config.env['POSTGRES_HOST']}:{config.env['POSTGRES_PORT']}/"
    through = store_url.replace(host, f"@127.0.0.1:{proxy.port}/")
    core = initialise(through, register, key_file=key_source.path, clock=clock)
    yield core, proxy.cut


def test_a_store_gone_is_503_with_no_driver_text_or_traceback(
    doomed: tuple[Core, object], tmp_path: Path
) -> None:
    core, take_away = doomed
    _, token = issue_token(core.ledger, name="dpo", role="dpo", actor="test")
    with TestClient(create_app(core), raise_server_exceptions=False) as client:
        assert client.get("/v1/findings", headers=bearer(token)).status_code == 200
        take_away()  # type: ignore[operator]
        appended = client.post(
            "/v1/events", content=ndjson(subject_registered("C-1")), headers=bearer(token)
        )
        assert appended.status_code == 503, appended.text
        assert appended.headers["content-type"] == PROBLEM
        assert appended.json()["errors"][0]["rule"] in {"store_unavailable", "store_error"}
        assert "Traceback" not in appended.text
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


def test_an_unexpected_failure_is_500_without_a_traceback(
    client: TestClient, tokens: Tokens, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals /home/x " + DEMO_VALUES[0])

    monkeypatch.setattr("projections.queries.Views.findings", broken)
    response = client.get("/v1/findings", headers=bearer(tokens.dpo))
    assert_problem(response, 500, "unexpected_failure")
    assert "secret" not in response.text
    assert DEMO_VALUES[0] not in response.text
