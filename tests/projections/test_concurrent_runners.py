"""Two runners over one store (a service and ``ledger project --follow``, say) never clash.

Each applies a page only past the position tracked in the store when its
transaction starts, so events another runner applied meanwhile are skipped, not
applied twice and not refused as a tracking conflict.
"""

from __future__ import annotations

from ledger import open_core
from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.bootstrap import Core
from ledger.demo.population import generate_population
from ledger.persistence.keys import MasterKeySource
from projections.replay import replay_compare
from tests import factories as f


def test_a_runner_skips_what_another_runner_applied_meanwhile(
    core: Core, ledger: Ledger, store_url: str, register: DefinitionFile,
    key_source: MasterKeySource,
) -> None:  # fmt: skip
    start = ledger.notices.versions[0].effective_from
    f.append(ledger, *generate_population(register.definition, 30, seed=5, start=start,
                                          end=ledger.clock.now()))  # fmt: skip
    head = ledger.recorder.max_notification_id()
    other = open_core(store_url, key_file=key_source.path)
    try:
        mine, theirs = core.runner(page_size=10), other.runner()
        overtaken: list[int] = []

        def overtake(position: int, _target: int) -> None:
            # After this runner's first page, the other runner applies everything.
            if not overtaken:
                overtaken.append(position)
                theirs.catch_up()

        mine.catch_up(progress=overtake)
        assert overtaken
        assert set(mine.positions().values()) == {head}
        _, differences, _ = replay_compare(core.ledger, core.store)
        assert differences == []
        trail = mine.store.query("SELECT COUNT(*) AS n FROM {t}v_trail")[0]["n"]
        assert trail == head - 1  # every subject event once (position 1 is the notice)
    finally:
        other.close()
