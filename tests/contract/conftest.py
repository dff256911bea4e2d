"""The contract tests reuse the command-line fixtures: an initialised store on each backend."""

from tests.cli.conftest import append, master_key, store

__all__ = ["append", "master_key", "store"]
