"""Group commit: concurrent requests share commits, each all or nothing on its own."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import Core, bootstrap
from ledger.clock import FixedClock
from ledger.persistence.keys import MasterKeySource
from ledger.service.app import create_app
from ledger.service.gate import Gate
from ledger.service.metrics import Metrics
from ledger.service.sealing import SealTimer
from ledger.service.settings import ServiceSettings
from ledger.service.writer import GroupWriter, Stopping
from tests.factories import consent_granted, contract_started, subject_registered
from tests.service.conftest import Tokens, bearer

REQUESTS = 20


def ndjson(*lines: dict) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found is not None, name
    return float(found[1])


@pytest.fixture
def gathering(core: Core) -> Iterator[TestClient]:
    """A service whose writer gathers for 50 ms, so concurrent requests meet."""
    app = create_app(core, ServiceSettings(group_wait_ms=50))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _request(number: int) -> bytes:
    ref = f"C-{500 + number}"
    if number % 4 == 3:  # every fourth is refused: a purpose the register never had
        return ndjson(subject_registered(ref), consent_granted(ref, purpose="astrology"))
    return ndjson(subject_registered(ref), contract_started(ref))


def test_concurrent_requests_commit_together_and_the_bad_ones_alone_are_refused(
    gathering: TestClient, tokens: Tokens
) -> None:
    start = threading.Barrier(REQUESTS)
    answers: dict[int, tuple[int, dict]] = {}

    def send(number: int) -> None:
        start.wait()
        response = gathering.post(
            "/v1/events", content=_request(number), headers=bearer(tokens.service)
        )
        answers[number] = (response.status_code, response.json())

    threads = [threading.Thread(target=send, args=(n,)) for n in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number, (status, body) in sorted(answers.items()):
        if number % 4 == 3:
            assert status == 422, body
            assert [e["rule"] for e in body["errors"]] == ["unknown_purpose"]
            assert body["errors"][0]["line"] == 2  # numbered within its own request
        else:
            assert status == 200, body
            assert (body["appended"], body["duplicates"]) == (2, 0)
    for number in range(REQUESTS):
        trail = gathering.get(f"/v1/subjects/C-{500 + number}/trail", headers=bearer(tokens.dpo))
        assert trail.status_code == (404 if number % 4 == 3 else 200)
    text = gathering.get("/metrics").text
    commits = metric(text, "ledger_group_commit_requests_count")
    assert metric(text, "ledger_group_commit_requests_sum") == REQUESTS
    assert commits < REQUESTS
    assert metric(text, "ledger_appended_events_total") == 2 * (REQUESTS - REQUESTS // 4)


def test_a_retried_request_with_idempotency_keys_answers_duplicates(
    client: TestClient, tokens: Tokens
) -> None:
    body = ndjson(
        subject_registered("C-77", idempotency_key="crm-77-1"),
        contract_started("C-77", idempotency_key="crm-77-2"),
    )
    first = client.post("/v1/events", content=body, headers=bearer(tokens.service))
    again = client.post("/v1/events", content=body, headers=bearer(tokens.service))
    assert first.status_code == again.status_code == 200
    assert (first.json()["appended"], first.json()["duplicates"]) == (2, 0)
    assert (again.json()["appended"], again.json()["duplicates"]) == (0, 2)
    trail = client.get("/v1/subjects/C-77/trail", headers=bearer(tokens.dpo)).json()
    assert len(trail["events"]) == 2


def test_a_json_array_of_envelopes_appends_like_ndjson(client: TestClient, tokens: Tokens) -> None:
    lines = [subject_registered("C-88"), contract_started("C-88")]
    response = client.post("/v1/events", json=lines, headers=bearer(tokens.service))
    assert response.status_code == 200, response.text
    assert response.json()["appended"] == 2
    # The writer never waits for a seal: the timer covers the append within a second or so.
    last = response.json()["last_position"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = client.get("/v1/log/checkpoint", headers=bearer(tokens.auditor)).text
        if int(text.splitlines()[1]) >= last:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the log was not sealed up to {last} within 5 s")


def test_a_stop_finishes_every_queued_commit_and_seals_it(
    core: Core, store_url: str, key_source: MasterKeySource, clock: FixedClock, raw: tuple
) -> None:
    lazy = bootstrap(store_url, key_file=key_source.path, clock=clock, seal_every=3600)
    gate = Gate(lazy)
    writer = GroupWriter(gate, Metrics(), wait_ms=100, max_lines=3)
    timer = SealTimer(gate, Metrics(), every=3600)
    writer.start()
    futures = [writer.append([ndjson(subject_registered(f"C-{900 + n}"))]) for n in range(7)]
    writer.stop()  # returns only when every queued request is committed
    timer.stop()  # the final seal
    assert [f.result(timeout=0)["appended"] for f in futures] == [1] * 7
    with pytest.raises(Stopping):
        writer.append([ndjson(subject_registered("C-999"))])
    run, table, _ = raw
    (events,) = run(f"SELECT COUNT(*) FROM {table}", ())[0]
    latest = lazy.sealer.latest()
    assert latest is not None
    assert latest.size == events
    lazy.close()
