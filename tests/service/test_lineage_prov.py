"""``GET /v1/subjects/{ref}/lineage?format=prov``: the CLI's PROV-JSON over HTTP, both stores."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prov.model import ProvDocument, ProvUsage

from ledger.cli import run_captured
from ledger.persistence.keys import MasterKeySource
from tests.service.conftest import DEMO_VALUES, Tokens, bearer

PATH = "/v1/subjects/C-1001/lineage"


@pytest.fixture
def cli(store_url: str, key_source: MasterKeySource) -> list[str]:
    """The command line's options naming the service's store and key."""
    return ["--store", store_url, "--key-file", str(key_source.path)]


def _prov(client: TestClient, token: str, query: str = "format=prov") -> Any:
    return client.get(f"{PATH}?{query}", headers=bearer(token))


@pytest.mark.parametrize("query", ["format=prov", "format=prov&field=name"])
def test_prov_over_http_is_the_command_lines_prov_json(
    client: TestClient, tokens: Tokens, seeded: str, cli: list[str], query: str
) -> None:
    response = _prov(client, tokens.auditor, query)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    argv = ["lineage", "C-1001", "--format", "prov"]
    if "field=" in query:
        argv += ["--field", "name"]
    code, out, err = run_captured([*cli, *argv])
    assert (code, err) == (0, "")
    assert response.json() == orjson.loads(out)


def test_prov_over_http_loads_in_the_prov_library_without_a_value(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = _prov(client, tokens.auditor)

    document = ProvDocument.deserialize(content=response.text, format="json")
    usages = [r for r in document.get_records() if isinstance(r, ProvUsage)]
    assert usages, "the disclosure used the subject's data"
    assert not any(value in response.text for value in DEMO_VALUES)


def test_the_json_format_stays_the_default_lineage_answer(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    default = client.get(PATH, headers=bearer(tokens.auditor)).json()
    explicit = _prov(client, tokens.auditor, "format=json").json()

    assert default == explicit
    assert default["subject"] == "C-1001"
    assert "prefix" not in default


@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("dpo", 200), ("service", 403)])
def test_prov_lineage_is_given_to_the_roles_lineage_is_given_to(
    client: TestClient, tokens: Tokens, seeded: str, role: str, status: int
) -> None:
    response = _prov(client, getattr(tokens, role))

    assert response.status_code == status, response.text


def test_an_unknown_format_is_a_problem_naming_the_parameter(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    response = _prov(client, tokens.auditor, "format=turtle")

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "format" in response.text
    assert "turtle" not in response.json()["detail"]


def test_the_openapi_document_declares_both_shapes_and_the_format(client: TestClient) -> None:
    api = client.get("/openapi.json").json()
    operation = api["paths"]["/v1/subjects/{ref}/lineage"]["get"]

    (param,) = [p for p in operation["parameters"] if p["name"] == "format"]
    assert param["schema"]["enum"] == ["json", "prov"]
    shapes = operation["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert {s["$ref"].rsplit("/", 1)[-1] for s in shapes} == {"LineageAnswer", "ProvLineage"}
    prov = api["components"]["schemas"]["ProvLineage"]["properties"]
    assert {"prefix", "entity", "activity", "agent", "wasGeneratedBy", "used"} <= set(prov)
