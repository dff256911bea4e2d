"""Property-based tests of the API from its own OpenAPI document (schemathesis).

Every operation the document describes is called with generated requests, as the
DPO (who may do everything) and as the auditor; no answer may be a server error,
and every answer must fit the schema the document gives for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from ledger.bootstrap import Core
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from tests.service.conftest import PURPOSE, Tokens, bearer


def _lifespan_run_once(app: Any) -> Any:
    """The app, with the lifespan schemathesis starts per call answered and ignored.

    The test starts the real lifespan (the writer, the seal timer) once, outside.
    """

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return wrapped


@pytest.fixture
def api_schema(core: Core, settings: ServiceSettings, tokens: Tokens, seeded: str) -> Iterator[Any]:
    app = create_app(core, settings)
    with TestClient(app):  # runs the lifespan: the writer and the seal timer
        yield schemathesis.openapi.from_asgi("/openapi.json", _lifespan_run_once(app))


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = 12
"""Generated requests per operation and token (bounded: the suite stays quick)."""


def _exercise(operation: Any, headers: dict[str, str]) -> None:
    """Call one operation with generated requests and check every answer."""

    @given(case=operation.as_strategy())
    @examples(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


def test_no_generated_request_gets_a_server_error_or_an_answer_outside_its_schema(
    api_schema: Any, tokens: Tokens
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        for token in (tokens.dpo, tokens.auditor):
            _exercise(operation, {**bearer(token), **PURPOSE})
