"""The consent and data-lineage ledger: public API.

>>> core = open_core("sqlite:///ledger.db")            # doctest: +SKIP
>>> core.ledger.append_batch([line, ...])              # doctest: +SKIP
>>> core.views().basis("C-1001", "marketing", at=...)  # doctest: +SKIP
>>> core.close()                                       # doctest: +SKIP

Both entry points go through the one composition root, ``ledger.bootstrap``: the
ledger they return seals its log after every committed call (or within the
interval given as ``seal_every``), whichever face calls it.

Threads: a ``Ledger`` may be shared, its calls taking turns (``Ledger.exclusive``);
the views may not (a query catches the projections up first): use ``core.views()``
from one thread at a time, under a lock of yours, as the HTTP service's gate does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ledger.appending.application import Ledger
from ledger.appending.outcomes import AppendResult
from ledger.clock import Clock
from ledger.errors import (
    BatchRejected,
    ConfigurationError,
    LedgerError,
    NotFound,
    SubjectNotFound,
    Violation,
)
from ledger.persistence.sources import master_key_source, signing_key_source, store_config

if TYPE_CHECKING:
    from ledger.bootstrap import Core

__all__ = [
    "AppendResult",
    "BatchRejected",
    "ConfigurationError",
    "Ledger",
    "LedgerError",
    "NotFound",
    "SubjectNotFound",
    "Violation",
    "master_key_source",
    "open_core",
    "open_ledger",
    "signing_key_source",
    "store_config",
]


def open_core(
    url: str | None = None,
    *,
    key_file: str | Path | None = None,
    clock: Clock | None = None,
    seal_every: float | None = None,
) -> Core:
    """Open an initialised ledger with its views and sealer (see ``ledger.bootstrap``)."""
    from ledger.bootstrap import bootstrap  # noqa: PLC0415 - the root imports the read side

    return bootstrap(url, key_file=key_file, clock=clock, seal_every=seal_every)


def open_ledger(
    url: str | None = None,
    *,
    key_file: str | Path | None = None,
    clock: Clock | None = None,
    seal_every: float | None = None,
) -> Ledger:
    """Open an initialised ledger; ``close()`` it to seal what is pending and let go."""
    return open_core(url, key_file=key_file, clock=clock, seal_every=seal_every).ledger
