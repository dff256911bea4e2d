"""The command-line fixtures (a store made by ``ledger init``) for the access tests."""

from tests.cli.conftest import append, master_key, store

__all__ = ["append", "master_key", "store"]
