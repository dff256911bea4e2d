"""A runner process killed mid-catch-up resumes exactly: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import Core
from ledger.demo.population import generate_population
from ledger.persistence.keys import MasterKeySource
from projections.replay import replay_compare
from tests import factories as f

SLOW_RUNNER = """
import sys, time
from ledger import open_core
from projections.register_view.projection import RegisterViewProjection

apply = RegisterViewProjection.apply
def slow_apply(self, tx, events):
    apply(self, tx, events)
    time.sleep(0.03)  # inside the transaction, before the position is tracked
RegisterViewProjection.apply = slow_apply

core = open_core(sys.argv[1], key_file=sys.argv[2])
runner = core.runner(page_size=20)
runner.catch_up(progress=lambda position, target: print(position, flush=True))
print("done", flush=True)
"""


def test_a_killed_runner_resumes_exactly(  # noqa: PLR0917 - fixtures
    core: Core,
    ledger: Ledger,
    store_url: str,
    register: DefinitionFile,
    key_source: MasterKeySource,
    tmp_path: Path,
) -> None:
    start = ledger.notices.versions[0].effective_from
    lines = generate_population(
        register.definition, 80, seed=3, start=start, end=ledger.clock.now()
    )
    f.append(ledger, *lines)
    head = ledger.recorder.max_notification_id()
    script = tmp_path / "slow_runner.py"
    script.write_text(SLOW_RUNNER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    with subprocess.Popen(
        [sys.executable, str(script), store_url, str(key_source.path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    ) as proc:  # leaving closes its pipe and reaps it
        assert proc.stdout is not None
        seen = [proc.stdout.readline().strip() for _ in range(5)]
        os.kill(proc.pid, signal.SIGKILL)
    assert "done" not in seen
    runner = core.runner()
    stopped = runner.positions()
    assert 0 < min(stopped.values()) < head
    runner.catch_up()
    assert set(runner.positions().values()) == {head}
    _, differences, _ = replay_compare(core.ledger, core.store)
    assert differences == []
    trail = runner.store.query("SELECT COUNT(*) AS n FROM {t}v_trail")[0]["n"]
    assert trail == head - 1  # every subject event once (position 1 is the notice)
