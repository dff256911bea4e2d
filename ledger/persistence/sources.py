"""Where the store and the keys are: from arguments, else the environment, else defaults."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.persistence.keys import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    SIGNING_KEY_ENV,
    SIGNING_KEY_FILE_ENV,
    MasterKeySource,
    SigningKeySource,
)
from ledger.persistence.store import (
    DEFAULT_STORE_URL,
    STORE_ENV,
    StoreConfig,
    parse_store_url,
)


def store_config(url: str | None = None) -> StoreConfig:
    """The store from ``url``, else ``LEDGER_STORE``, else ``sqlite:///ledger.db``."""
    return parse_store_url(url or os.environ.get(STORE_ENV) or DEFAULT_STORE_URL)


def master_key_source(store: StoreConfig, key_file: str | Path | None = None) -> MasterKeySource:
    """Where the master key is: ``LEDGER_MASTER_KEY``, else a file.

    The file is ``key_file``, else ``LEDGER_MASTER_KEY_FILE``, else
    ``<store>.master.key`` beside a SQLite file (``ledger-<db>-<schema>.master.key``
    in the current folder for PostgreSQL).
    """
    path = key_file or os.environ.get(MASTER_KEY_FILE_ENV)
    if path is None:
        path = store.default_key_dir / f"{store.key_file_stem}.master.key"
    return MasterKeySource(Path(path), os.environ.get(MASTER_KEY_ENV) or None)


def signing_key_source(master: MasterKeySource) -> SigningKeySource:
    """Where the checkpoint signing key is: ``LEDGER_SIGNING_KEY``, else a file.

    The file is ``LEDGER_SIGNING_KEY_FILE``, else ``<name>.signing.key`` beside the
    master key file ``<name>.master.key``.
    """
    env_value = os.environ.get(SIGNING_KEY_ENV) or None
    path = os.environ.get(SIGNING_KEY_FILE_ENV)
    if path is not None:
        return SigningKeySource(Path(path), env_value)
    return SigningKeySource.beside(master.path, env_value)


CHECKPOINT_FILE_ENV = "LEDGER_CHECKPOINT_FILE"
VERIFIER_KEY_FILE_ENV = "LEDGER_VERIFIER_KEY_FILE"


def _beside(master: MasterKeySource, suffix: str) -> Path:
    name = master.path.name.removesuffix(".master.key").removesuffix(".key")
    return master.path.with_name(f"{name}{suffix}")


def checkpoint_file(master: MasterKeySource, path: str | Path | None = None) -> Path:
    """Where signed checkpoints are anchored outside the store (append-only file).

    ``path``, else ``LEDGER_CHECKPOINT_FILE``, else ``<name>.checkpoints`` beside the
    master key file ``<name>.master.key``.
    """
    chosen = path or os.environ.get(CHECKPOINT_FILE_ENV)
    return Path(chosen) if chosen else _beside(master, ".checkpoints")


def verifier_key_file(master: MasterKeySource, path: str | Path | None = None) -> Path:
    """Where the store's verifier (public) key is kept outside the store.

    ``path``, else ``LEDGER_VERIFIER_KEY_FILE``, else ``<name>.verifier.key`` beside
    the master key file ``<name>.master.key``.
    """
    chosen = path or os.environ.get(VERIFIER_KEY_FILE_ENV)
    return Path(chosen) if chosen else _beside(master, ".verifier.key")
