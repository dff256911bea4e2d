"""The composition root: the one place that builds a working ledger.

It builds the store, the key sources, the ``Ledger`` (whose recorder and side
tables the library constructs from the store's settings), the view store over the
same connections, the sealer and the sealing policy, and wires the policy to the
ledger as its commit listener. Faces (the command line, the demo, a service) and
the Python API (``ledger.open_core``, ``ledger.open_ledger``) all come through
here, so every face gets the same policy and nothing reaches into another
object's internals to find a connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.clock import Clock
from ledger.evidence.anchor import CheckpointAnchor
from ledger.evidence.policy import SealPolicy
from ledger.evidence.sealing import Sealer
from ledger.persistence import sources
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.views import ViewStore
from projections.base import Projection
from projections.queries import Views
from projections.runner import ProjectionRunner


@dataclass(slots=True)
class Core:
    """A ledger with its views and its sealer, sharing one set of connections."""

    ledger: Ledger
    store: ViewStore
    sealer: Sealer
    policy: SealPolicy

    def views(self, *, catch_up: bool = True) -> Views:
        """The queries, after catching the projections up (read-your-writes)."""
        return Views(self.ledger, self.store, catch_up=catch_up)

    def runner(
        self, projections: Sequence[type[Projection]] | None = None, *, page_size: int = 2000
    ) -> ProjectionRunner:
        """A projection runner over this ledger's views."""
        return ProjectionRunner(self.ledger, projections, store=self.store, page_size=page_size)

    def seal(self) -> None:
        """Seal now, whatever the interval (e.g. before a verify or a proof)."""
        self.policy.seal()

    def close(self) -> None:
        """Seal what is pending under the policy, then release the connections."""
        self.ledger.close()

    def __enter__(self) -> Core:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _wire(
    ledger: Ledger,
    master: MasterKeySource,
    seal_every: float | None,
    checkpoint_file: str | Path | None,
) -> Core:
    store = ViewStore(ledger.store, ledger.datastore)
    sealer = Sealer(
        ledger,
        store,
        anchor=CheckpointAnchor(sources.checkpoint_file(master, checkpoint_file)),
        verifier_file=sources.verifier_key_file(master),
    )
    policy = SealPolicy(sealer, interval=seal_every)
    ledger.listener = policy
    return Core(ledger, store, sealer, policy)


def bootstrap(
    url: str | None = None,
    *,
    key_file: str | Path | None = None,
    clock: Clock | None = None,
    seal_every: float | None = None,
    checkpoint_file: str | Path | None = None,
) -> Core:
    """Open an initialised ledger.

    ``seal_every``: None seals after every committed call; a number of seconds
    seals at the first commit after that long and when the ledger closes.
    ``checkpoint_file``: where signed checkpoints are anchored outside the store
    (default ``LEDGER_CHECKPOINT_FILE``, else ``<name>.checkpoints`` beside the
    master key ``<name>.master.key``).
    """
    store = sources.store_config(url)
    master = sources.master_key_source(store, key_file)
    ledger = Ledger(store, master, signing_key=sources.signing_key_source(master), clock=clock)
    return _wire(ledger, master, seal_every, checkpoint_file)


def initialise(
    url: str | None,
    register: DefinitionFile,
    *,
    key_file: str | Path | None = None,
    clock: Clock | None = None,
    effective_from: datetime | None = None,
    seal_every: float | None = None,
    checkpoint_file: str | Path | None = None,
) -> Core:
    """Create a store, its keys and its first notice version, sealed (``ledger init``).

    The first seal writes the verifier key beside the keys (``<name>.verifier.key``)
    and starts the checkpoint anchor file.
    """
    store = sources.store_config(url)
    master = sources.master_key_source(store, key_file)
    ledger = Ledger.initialise(
        store,
        master,
        register.definition,
        register.digest,
        signing_key=sources.signing_key_source(master),
        effective_from=effective_from,
        clock=clock,
    )
    core = _wire(ledger, master, seal_every, checkpoint_file)
    core.sealer.keep_verifier_key()
    core.seal()
    return core
