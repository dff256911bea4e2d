"""``POST /v1/events`` answers the same beside the framework as through its route.

The service answers appends with ``LeanAppend`` (``ServiceSettings.lean_append``,
on by default); the FastAPI route answers them when it is off. Every case here is
sent to both, on the same store, and the two answers must agree: status, media
type, headers that matter and the body (positions aside, which grow).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from tests.factories import consent_granted, contract_started, subject_registered
from tests.service.conftest import Tokens, bearer

NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}


def ndjson(*lines: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


def _keyed(ref: str) -> bytes:
    """One keyed line per run (the run's prefix of ``ref``), the same each time."""
    run = ref.rsplit("-", 1)[0]
    return ndjson(subject_registered(f"{run}-K") | {"idempotency_key": f"{run}-key"})


Case = Callable[[Tokens, str], tuple[bytes, dict[str, str]]]
"""(tokens, a reference of this run) -> (body, headers)."""

CASES: dict[str, Case] = {
    "ndjson appended": lambda t, ref: (
        ndjson(subject_registered(ref), contract_started(ref)),
        bearer(t.service) | NDJSON,
    ),
    "json array appended": lambda t, ref: (
        orjson.dumps([subject_registered(ref)]),
        bearer(t.service) | JSON,
    ),
    "a line with a key": lambda t, ref: (_keyed(ref), bearer(t.service) | NDJSON),
    "the same line again": lambda t, ref: (_keyed(ref), bearer(t.service) | NDJSON),
    "a refused line": lambda t, ref: (
        ndjson(subject_registered(ref), consent_granted(ref, purpose="no_such_purpose")),
        bearer(t.service) | NDJSON,
    ),
    "not json": lambda t, ref: (b"[{", bearer(t.service) | JSON),
    "not an array": lambda t, ref: (b'{"type": "x"}', bearer(t.service) | JSON),
    "no token": lambda t, ref: (ndjson(subject_registered(ref)), NDJSON),
    "not a bearer": lambda t, ref: (ndjson(subject_registered(ref)), {"Authorization": "Basic x"}),
    "an unknown token": lambda t, ref: (ndjson(subject_registered(ref)), bearer("tok_unknown")),
    "a role that may not append": lambda t, ref: (
        ndjson(subject_registered(ref)),
        bearer(t.auditor) | NDJSON,
    ),
    "a type the token may not append": lambda t, ref: (
        ndjson(subject_registered(ref)),
        bearer(t.consent_only) | NDJSON,
    ),
    "too large": lambda t, ref: (b"x" * 2048, bearer(t.service) | NDJSON),
    "an empty body": lambda t, ref: (b"", bearer(t.service) | NDJSON),
}


def _answers(core: Core, tokens: Tokens, *, lean: bool, run: str) -> dict[str, Any]:
    settings = ServiceSettings(group_wait_ms=1, max_body_bytes=1024, lean_append=lean)
    answers = {}
    with TestClient(create_app(core, settings), raise_server_exceptions=False) as client:
        for number, (name, case) in enumerate(CASES.items()):
            body, headers = case(tokens, f"C-{run}-{number}")
            response = client.post("/v1/events", content=body, headers=headers)
            answers[name] = (
                response.status_code,
                response.headers["content-type"],
                response.headers.get("www-authenticate"),
                _comparable(response.json(), run),
            )
    return answers


def _comparable(body: Any, run: str) -> Any:
    """The answer with this run's references and the log's positions taken out."""
    text = orjson.dumps(body).decode().replace(f"C-{run}-", "C-RUN-")
    value = orjson.loads(text)
    if isinstance(value, dict):
        for key in ("positions", "first_position", "last_position", "checkpoint"):
            value.pop(key, None)
    return value


def test_the_lean_handler_answers_every_case_as_the_route_does(core: Core, tokens: Tokens) -> None:
    lean = _answers(core, tokens, lean=True, run="L")
    routed = _answers(core, tokens, lean=False, run="F")
    assert lean.keys() == routed.keys()
    for name in CASES:
        assert lean[name] == routed[name], name
    assert lean["the same line again"][3]["duplicates"] == 1
    statuses = {name: answer[0] for name, answer in lean.items()}
    assert statuses == {
        "ndjson appended": 200, "json array appended": 200, "a line with a key": 200,
        "the same line again": 200,
        "a refused line": 422, "not json": 400, "not an array": 400, "no token": 401,
        "not a bearer": 401, "an unknown token": 401, "a role that may not append": 403,
        "a type the token may not append": 403, "too large": 413, "an empty body": 200,
    }  # fmt: skip


@pytest.mark.parametrize("lean", [True, False])
def test_an_append_is_logged_and_counted_once_under_its_route_template(
    core: Core, tokens: Tokens, caplog: pytest.LogCaptureFixture, lean: bool
) -> None:
    settings = ServiceSettings(group_wait_ms=1, lean_append=lean)
    with (
        TestClient(create_app(core, settings)) as client,
        caplog.at_level(logging.INFO, logger="ledger.service.access"),
    ):
        body = ndjson(subject_registered("C-LOG-1"))
        assert client.post("/v1/events", content=body, headers=bearer(tokens.service)).is_success
        denied = client.post("/v1/events", content=body, headers=bearer(tokens.auditor))
        assert denied.status_code == 403
        metrics = client.get("/metrics").text
    lines = [orjson.loads(r.getMessage()) for r in caplog.records
             if r.name == "ledger.service.access"]  # fmt: skip
    events = [line for line in lines if line["route"] == "/v1/events"]
    assert [(e["method"], e["status"]) for e in events] == [("POST", 200), ("POST", 403)]
    assert all(e["token_id"].startswith("tok_") for e in events)
    assert all("C-LOG-1" not in r.getMessage() for r in caplog.records)
    assert 'method="POST",route="/v1/events",status="200"} 1.0' in metrics
    assert 'method="POST",route="/v1/events",status="403"} 1.0' in metrics
