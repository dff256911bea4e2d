"""The command-line tests' fixtures: a store made by ``ledger init``, NDJSON input.

Every store is initialised on each backend (``store_url``) with the example
register; its master key lives at ``master_key`` (through
``LEDGER_MASTER_KEY_FILE``), the signing key beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.cli import run_captured
from tests.conftest import EXAMPLE_REGISTER

Append = Callable[..., dict[str, Any]]


def ndjson(*lines: dict[str, Any]) -> bytes:
    """Event lines (dicts, e.g. from ``tests.factories``) as ``ledger append`` input."""
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


@pytest.fixture
def master_key(tmp_path: Path) -> Path:
    """Where the store's master key file is (the signing key is beside it)."""
    return tmp_path / "keys" / "l.master.key"


@pytest.fixture
def store(store_url: str, master_key: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store initialised by ``ledger init`` with the example register."""
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(master_key))
    code, out, err = run_captured(
        ["init", "--store", store_url, "--register", str(EXAMPLE_REGISTER)]
    )
    assert (code, err) == (0, "")
    answer = orjson.loads(out)
    assert (answer["notice_version"], answer["checkpoint"]["size"]) == ("2021-06-03", 1)
    return store_url


@pytest.fixture
def append(store: str) -> Append:
    """``ledger append`` of these lines to ``store``; returns its JSON answer."""

    def run(*lines: dict[str, Any]) -> dict[str, Any]:
        code, out, err = run_captured(["append", "--store", store], ndjson(*lines))
        assert (code, err) == (0, "")
        answer: dict[str, Any] = orjson.loads(out)
        return answer

    return run
