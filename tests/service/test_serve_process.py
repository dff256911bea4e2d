"""A real ``ledger serve`` process: it listens, appends, answers, refuses, stops sealed."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import orjson
import pytest

from ledger.access.tokens import issue_token
from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import initialise
from ledger.persistence.keys import MasterKeySource
from tests.factories import contract_started, subject_registered
from tests.service.conftest import bearer

LEDGER = [sys.executable, "-m", "ledger.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(
    store_url: str, register: DefinitionFile, key_source: MasterKeySource
) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, str]]]:
    """A served store: (the process, its base URL, a token per role)."""
    with initialise(store_url, register, key_file=key_source.path) as core:
        tokens = {
            role: issue_token(core.ledger, name=f"{role}-1", role=role, actor="test")[1]
            for role in ("service", "dpo", "auditor")
        }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Leaving the block closes both pipes unread (a views process still ending may
    # hold them open) and reaps the server.
    with subprocess.Popen(
        [*LEDGER, "serve", "--store", store_url, "--key-file", str(key_source.path),
         "--port", str(port), "--seal-every", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:  # fmt: skip
        try:
            _wait_healthy(process, base)
            yield process, base, tokens
        finally:
            if process.poll() is None:
                process.kill()


def _wait_healthy(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.1)
    pytest.fail("ledger serve did not answer /healthz within 30 s")


def test_a_served_ledger_appends_answers_refuses_and_stops_sealed(
    served: tuple[subprocess.Popen[bytes], str, dict[str, str]], raw: tuple
) -> None:
    process, base, tokens = served
    lines = b"".join(
        orjson.dumps(x) + b"\n" for x in (subject_registered("C-1"), contract_started("C-1"))
    )
    with httpx2.Client(base_url=base, timeout=10) as http:
        appended = http.post(
            "/v1/events", content=lines,
            headers=bearer(tokens["service"]) | {"Content-Type": "application/x-ndjson"},
        )  # fmt: skip
        assert appended.status_code == 200, appended.text
        assert appended.json()["appended"] == 2
        basis = http.get(
            "/v1/subjects/C-1/basis", params={"purpose": "billing"},
            headers=bearer(tokens["service"]),
        )  # fmt: skip
        assert basis.status_code == 200
        assert basis.json()["lawful"] is True
        refused = http.post("/v1/events", content=lines, headers=bearer(tokens["auditor"]))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        before = http.get("/v1/log/checkpoint", headers=bearer(tokens["auditor"])).text
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.decode().startswith("ledger serving ")
    assert f"http://127.0.0.1:{base.rsplit(':', 1)[1]}" in out.decode()
    assert b"Traceback" not in err
    run, table, _ = raw
    (events,) = run(f"SELECT COUNT(*) FROM {table}", ())[0]
    (sealed,) = run("SELECT MAX(size) FROM ledger_checkpoints", ())[0]
    assert int(before.splitlines()[1]) < events  # seal-every 30: the stop sealed them
    assert sealed == events
    access = [orjson.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert [(a["route"], a["status"]) for a in access if a["route"].startswith("/v1/")] == [
        ("/v1/events", 200), ("/v1/subjects/{ref}/basis", 200), ("/v1/events", 403),
        ("/v1/log/checkpoint", 200),
    ]  # fmt: skip


def _children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return {int(p) for p in found.stdout.split()}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_a_served_ledger_keeps_its_views_caught_up_without_being_read(
    served: tuple[subprocess.Popen[bytes], str, dict[str, str]],
) -> None:
    _, base, tokens = served
    lines = b"".join(
        orjson.dumps(x) + b"\n" for x in (subject_registered("C-2"), contract_started("C-2"))
    )
    with httpx2.Client(base_url=base, timeout=10) as http:
        appended = http.post("/v1/events", content=lines, headers=bearer(tokens["service"]))
        assert appended.status_code == 200, appended.text
        deadline = time.monotonic() + 15
        while (ready := http.get("/readyz").json())["projection_lag"] and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
    assert ready == {"status": "ready", "projection_lag": 0}


def test_a_killed_service_leaves_no_views_process_behind(
    served: tuple[subprocess.Popen[bytes], str, dict[str, str]], store_url: str
) -> None:
    process, _, _ = served
    if not store_url.startswith("postgresql"):
        # SQLite's views are caught up in the service's own process: no child at all.
        time.sleep(1)
        assert _children(process.pid) == set()
        return
    deadline = time.monotonic() + 15
    while not (children := _children(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert children, "the service started no views process"
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(c) for c in children)
