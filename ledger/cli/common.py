"""What every command shares: streams, exit codes, argument types, tables, progress."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import IO, Any, TextIO

import orjson
from pydantic import TypeAdapter, ValidationError

from ledger.bootstrap import Core, bootstrap
from ledger.errors import (
    BatchRejected,
    ConfigurationError,
    LedgerError,
    NotFound,
    VerificationFailed,
)
from schemas.base import Timestamp

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_REJECTED, EXIT_NOT_FOUND, EXIT_VERIFY = range(6)


EXIT_CODES: tuple[tuple[type[LedgerError], int], ...] = (
    (BatchRejected, EXIT_REJECTED),
    (NotFound, EXIT_NOT_FOUND),
    (VerificationFailed, EXIT_VERIFY),
    (ConfigurationError, EXIT_USAGE),
)


_TIMESTAMP = TypeAdapter[datetime](Timestamp)


class Io:
    """The three streams of a command, and how it writes JSON."""

    def __init__(self, stdin: IO[bytes], stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr

    @staticmethod
    def dumps(value: Any) -> str:
        """Indented JSON text with a final newline."""
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n"

    def json(self, value: Any) -> None:
        """Write a value as JSON to stdout."""
        self.stdout.write(self.dumps(value))

    def line(self, text: str = "") -> None:
        self.stdout.write(text + "\n")


def timestamp(text: str) -> datetime:
    try:
        return _TIMESTAMP.validate_python(text)
    except ValidationError:
        msg = f"not an RFC 3339 timestamp with an offset: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        msg = f"must be a positive whole number: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def open_from(args: argparse.Namespace) -> Core:
    """The ledger named by --store and --key-file, wired by the composition root."""
    return bootstrap(args.store, key_file=args.key_file)


# --- commands ---------------------------------------------------------------------


def sealed(core: Core) -> dict[str, Any] | None:
    """The checkpoint the sealing policy signed last, as commands print it."""
    checkpoint = core.policy.last
    return None if checkpoint is None else {"size": checkpoint.size, "root": checkpoint.root.hex()}


def table(io: Io, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    cells = [[("" if r.get(c) is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    io.line("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        io.line("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


# --- argument parsing -------------------------------------------------------------


def when(at: datetime | None) -> str:
    return "open" if at is None else at.isoformat()


def when_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", type=timestamp, help="valid time (default: now)")
    parser.add_argument("--known-at", type=timestamp, help="what the ledger knew then")
    parser.add_argument("--json", action="store_true")


def progress_bar(io: Io, label: str) -> Callable[[int, int], None]:
    width = 30

    def show(position: int, target: int) -> None:
        done = min(1.0, position / target) if target else 1.0
        bar = "#" * int(done * width)
        io.stderr.write(f"\r{label} [{bar:<{width}}] {done:4.0%} position {position}/{target}")
        if position >= target:
            io.stderr.write("\n")
        io.stderr.flush()

    return show
