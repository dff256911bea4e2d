"""Operations: liveness, readiness, metrics, the API description, the access log lines."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import Core, bootstrap
from ledger.clock import FixedClock
from ledger.persistence.keys import MasterKeySource
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from tests.factories import subject_registered
from tests.service.conftest import PURPOSE, Tokens, bearer


def test_liveness_and_readiness_answer_without_a_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "projection_lag": 1}  # the notice, not yet read


@pytest.fixture
def impatient(core: Core) -> Iterator[TestClient]:
    """A service that calls itself ready only with the views fully caught up."""
    with TestClient(create_app(core, ServiceSettings(ready_lag=0, seal_every=3600))) as client:
        yield client


def test_views_behind_the_log_make_the_service_not_ready(impatient: TestClient, core: Core) -> None:
    core.ledger.append_batch([orjson.dumps(subject_registered("C-3"))])  # behind its back
    response = impatient.get("/readyz")
    assert response.status_code == 503
    assert response.json()["errors"][0]["rule"] == "views_behind"
    core.views()  # caught up
    assert impatient.get("/readyz").status_code == 200


def test_metrics_count_requests_by_route_template_and_status(
    client: TestClient, tokens: Tokens, seeded: str
) -> None:
    client.get("/v1/subjects/C-1001/trail", headers=bearer(tokens.auditor))
    client.get("/v1/subjects/C-404/trail", headers=bearer(tokens.auditor))
    text = client.get("/metrics").text
    assert (
        'ledger_http_requests_total{method="GET",route="/v1/subjects/{ref}/trail",status="200"} 1.0'
        in text
    )
    assert 'route="/v1/subjects/{ref}/trail",status="404"} 1.0' in text
    assert "C-1001" not in text
    assert "ledger_http_request_duration_seconds_bucket" in text
    assert "ledger_projection_lag_events" in text


def test_each_request_logs_one_line_with_the_route_template_and_token_id_only(
    client: TestClient, tokens: Tokens, seeded: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ledger.service.access"):
        client.get("/v1/subjects/C-1001", headers=bearer(tokens.dpo) | PURPOSE)
    (record,) = [r for r in caplog.records if r.name == "ledger.service.access"]
    line = orjson.loads(record.getMessage())
    assert line.keys() == {"method", "route", "status", "duration_ms", "token_id"}
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/subjects/{ref}", 200)
    assert line["token_id"].startswith("tok_")
    assert "C-1001" not in record.getMessage()
    assert tokens.dpo not in record.getMessage()


def test_the_api_describes_every_contract_endpoint_with_the_answer_models(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/v1/events", "/v1/check", "/v1/subjects/{ref}/basis", "/v1/subjects/{ref}",
        "/v1/subjects/{ref}/trail", "/v1/subjects/{ref}/lineage", "/v1/subjects/{ref}/export",
        "/v1/subjects/{ref}/erasure", "/v1/findings", "/v1/disclosures", "/v1/retention",
        "/v1/retention/apply", "/v1/log/checkpoint", "/v1/log/proof/inclusion",
        "/v1/log/proof/consistency", "/v1/log/verify", "/v1/access-log", "/healthz",
        "/readyz", "/metrics",
    } <= paths  # fmt: skip
    assert {"BasisAnswer", "SubjectAnswer", "TrailAnswer"} <= set(document["components"]["schemas"])
    assert client.get("/docs").status_code == 200


def test_the_checkpoint_is_the_signed_note_as_text(
    client: TestClient, tokens: Tokens, core: Core
) -> None:
    response = client.get("/v1/log/checkpoint", headers=bearer(tokens.auditor))
    assert response.headers["content-type"].startswith("text/plain")
    latest = core.sealer.latest()
    assert latest is not None
    assert response.text == latest.note
    origin, size, _root = response.text.splitlines()[:3]
    assert int(size) == latest.size
    assert origin


def test_the_timer_seals_what_was_written_within_the_interval(
    core: Core, tokens: Tokens, store_url: str, key_source: MasterKeySource, clock: FixedClock
) -> None:
    lazy = bootstrap(store_url, key_file=key_source.path, clock=clock, seal_every=1.0)
    app = create_app(lazy, ServiceSettings(seal_every=1.0))
    gate = app.state.service.gate
    try:
        with TestClient(app) as client:
            body = orjson.dumps(subject_registered("C-4")) + b"\n"
            gate.use(lambda c: c.policy.seal())  # the interval starts now
            appended = client.post("/v1/events", content=body, headers=bearer(tokens.service))
            position = appended.json()["last_position"]
            assert not gate.use(lambda c: _covers(c, position))  # not sealed by the append
            deadline = time.monotonic() + 10
            while not gate.use(lambda c: _covers(c, position)):
                assert time.monotonic() < deadline, "the timer never sealed the append"
                time.sleep(0.1)
    finally:
        lazy.close()


def _covers(core: Core, position: int) -> bool:
    """Whether the latest signed checkpoint covers the event at ``position``."""
    index, latest = core.sealer.leaf_index(position), core.sealer.latest()
    return index is not None and latest is not None and latest.size > index
