"""Every endpoint with every role, on both stores: what the contract gives each, no more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.factories import consent_granted
from tests.service.conftest import PURPOSE, Tokens, bearer


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    action: str
    body: Any = None
    headers: dict[str, str] | None = None


def _append_body() -> bytes:
    line = consent_granted("C-1001", source="web_forms", idempotency_key="roles-1")
    return orjson.dumps(line) + b"\n"


CALLS = (
    Call("POST", "/v1/events", "append", _append_body()),
    Call("POST", "/v1/check", "check", {"subject": "C-1001", "purpose": "billing"}),
    Call("GET", "/v1/subjects/C-1001/basis?purpose=billing", "basis"),
    Call("GET", "/v1/subjects/C-1001", "subject", headers=PURPOSE),
    Call("GET", "/v1/subjects/C-1001/trail", "trail"),
    Call("GET", "/v1/subjects/C-1001/lineage", "lineage"),
    Call("GET", "/v1/subjects/C-1001/export?format=json", "export", headers=PURPOSE),
    Call("GET", "/v1/subjects/C-1001/export?format=html", "export", headers=PURPOSE),
    Call("GET", "/v1/findings", "findings"),
    Call("GET", "/v1/disclosures?breach=true", "disclosures"),
    Call("GET", "/v1/retention", "retention"),
    Call("GET", "/v1/log/checkpoint", "log"),
    Call("GET", "/v1/log/proof/inclusion?position=1", "log"),
    Call("GET", "/v1/log/proof/consistency?old=1", "log"),
    Call("GET", "/v1/log/verify", "log"),
    Call("GET", "/v1/access-log", "access_log"),
    Call("POST", "/v1/retention/apply", "retention_apply"),
    Call("POST", "/v1/subjects/C-1001/erasure", "erase", {"reason": "request R-7"}),
)
"""Erasure last: it removes what the calls before it ask about."""

MAY = {
    "service": {"append", "check", "basis"},
    "auditor": {"log", "trail", "basis", "findings", "disclosures", "access_log", "lineage"},
    "dpo": {c.action for c in CALLS},
}
"""The contract's roles table, written out here (not read from the code under test)."""


def send(client: TestClient, call: Call, token: str) -> Any:
    headers = bearer(token) | (call.headers or {})
    if isinstance(call.body, bytes):
        headers["Content-Type"] = "application/x-ndjson"
        return client.request(call.method, call.path, content=call.body, headers=headers)
    return client.request(call.method, call.path, json=call.body, headers=headers)


@pytest.mark.parametrize("role", ["service", "auditor", "dpo"])
def test_each_role_reaches_exactly_the_endpoints_the_contract_gives_it(
    client: TestClient, tokens: Tokens, seeded: str, role: str
) -> None:
    token = getattr(tokens, role)
    for call in CALLS:
        response = send(client, call, token)
        if call.action in MAY[role]:
            assert response.status_code == 200, (call, response.text)
        else:
            assert response.status_code == 403, (call, response.text)
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert problem["status"] == 403
            assert problem["errors"][0]["field"] == call.action
            assert call.action in problem["detail"]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path}")
def test_every_endpoint_refuses_a_request_without_a_token(client: TestClient, call: Call) -> None:
    response = client.request(call.method, call.path, headers=call.headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["rule"] == "unauthenticated"
