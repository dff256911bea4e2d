"""The same question over HTTP and on the command line gets the same JSON."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.cli import run_captured
from ledger.persistence.keys import MasterKeySource
from tests.service.conftest import Tokens, bearer

AT = "2024-02-01T10:00:00Z"

QUESTIONS = (
    ("GET", "/v1/subjects/C-1001/trail", None, ["trail", "C-1001"]),
    (
        "GET", f"/v1/subjects/C-1001/basis?purpose=billing&at={AT}&timeline=true", None,
        ["basis", "C-1001", "billing", "--at", AT, "--timeline"],
    ),
    (
        "GET", "/v1/subjects/C-1001/lineage?field=name", None,
        ["lineage", "C-1001", "--field", "name"],
    ),
    ("GET", "/v1/findings", None, ["findings"]),
    ("GET", "/v1/disclosures?breach=true", None, ["disclosures", "--breach"]),
    ("GET", f"/v1/retention?at={AT}&all=true", None, ["retention", "--at", AT, "--all"]),
    (
        "POST", "/v1/check",
        {"subject": "C-1001", "purpose": "marketing", "recipient": "print-house", "at": AT},
        ["check", "C-1001", "marketing", "--recipient", "print-house", "--at", AT],
    ),
)  # fmt: skip


@pytest.fixture
def cli(store_url: str, key_source: MasterKeySource) -> list[str]:
    """The command line's options naming the service's store and key."""
    return ["--store", store_url, "--key-file", str(key_source.path)]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q[1].split("?")[0])
def test_an_answer_over_http_is_the_command_lines_json(
    client: TestClient,
    tokens: Tokens,
    seeded: str,
    cli: list[str],
    question: tuple,
) -> None:
    method, path, body, argv = question
    response = client.request(method, path, json=body, headers=bearer(tokens.dpo))
    assert response.status_code == 200, response.text
    code, out, err = run_captured([*cli, *argv, "--json"])
    assert code == 0, err
    assert response.json() == orjson.loads(out)
