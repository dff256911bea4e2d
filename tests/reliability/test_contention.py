"""Many writers on one store at once: every call commits whole or says what it committed.

Eight ``ledger append`` processes write to the same subjects of one store, half
of them with idempotency keys and half without, half in one transaction and
half in batches. SQLite writers wait for the write lock (``BEGIN IMMEDIATE``
with a busy timeout) instead of failing at once; PostgreSQL writers retry the
versions another writer took. Whatever happens, the store holds each line that
a writer reported committed exactly once, and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.bootstrap import bootstrap
from schemas import events as ev
from tests import factories as f
from tests.cli.conftest import Append, append, master_key, ndjson, store

__all__ = ["append", "master_key", "store"]  # the command line's fixtures, used here too

pytestmark = pytest.mark.reliability

LEDGER = [sys.executable, "-m", "ledger.cli"]
WRITERS = 8
LINES = 120
BATCH = 20
SUBJECTS = 3


def _lines(writer: int) -> list[dict[str, Any]]:
    keyed = writer % 2 == 1
    return [
        f.personal_data(
            f"C-{j % SUBJECTS}",
            {"name": f"W{writer}-{j}"},
            **({"idempotency_key": f"w{writer}-{j}"} if keyed else {}),
        )
        for j in range(LINES)
    ]


def _committed(code: int, out: bytes, err: bytes, *, batched: bool) -> int:
    """Lines the writer says it committed; any failure must be one clean line."""
    if code == 0:
        assert err == b""
        answer = orjson.loads(out)
        assert answer["appended"] + answer["duplicates"] == LINES
        return LINES
    assert code == 7, err  # a write conflict or a lock held too long: retryable
    assert err.count(b"\n") == 1
    assert b"Traceback" not in err
    return int(orjson.loads(out)["committed_lines"]) if batched else 0


def test_eight_appending_processes_on_shared_subjects_lose_and_double_nothing(
    store: str, append: Append, tmp_path: Path
) -> None:
    append(*(f.subject_registered(f"C-{i}") for i in range(SUBJECTS)))
    processes = []
    for w in range(WRITERS):
        path = tmp_path / f"w{w}.ndjson"
        path.write_bytes(ndjson(*_lines(w)))
        batched = w % 4 < 2
        args = [*LEDGER, "append", str(path), "--store", store, "--json"]
        if batched:
            args += ["--batch-size", str(BATCH)]
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ)
        )
        processes.append((process, batched))
    committed = {}
    for w, (process, batched) in enumerate(processes):
        out, err = process.communicate(timeout=120)
        committed[w] = _committed(process.returncode, out, err, batched=batched)

    with bootstrap(store) as core:
        ledger = core.ledger
        names = Counter(
            e.data.fields["name"]
            for i in range(SUBJECTS)
            for e in ledger.stream(ledger.subject_id(f"C-{i}"))
            if isinstance(e.data, ev.PersonalDataRecordedData)
        )
    expected = Counter(f"W{w}-{j}" for w in range(WRITERS) for j in range(committed[w]))
    assert names == expected  # nothing lost, nothing doubled
    assert sum(committed.values()) == WRITERS * LINES  # and, waiting for the lock, all went in
    verify = subprocess.run([*LEDGER, "verify", "--store", store], capture_output=True, check=False)
    assert verify.returncode == 0, verify.stdout
