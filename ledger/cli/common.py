"""What every command shares: streams, exit codes, problems, options, tables, progress."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import IO, Any, NoReturn, TextIO

import orjson
from pydantic import TypeAdapter, ValidationError

from ledger.bootstrap import Core, bootstrap
from ledger.errors import (
    BatchRejected,
    ConfigurationError,
    LedgerError,
    NotFound,
    StoreError,
    VerificationFailed,
    WriteConflict,
)
from ledger.faces.problems import (
    ERROR_RULES,
    NOT_SEALED,
    error_field,
    error_rule,
    problem,
    sealed,
    sealing_problem,
    with_seal,
)
from ledger.faces.times import human_time, is_time_key, uniform_times
from schemas.base import Timestamp

__all__ = [  # the shared ones (ledger.faces) too, under the names commands import
    "ERROR_RULES",
    "NOT_SEALED",
    "error_field",
    "error_rule",
    "problem",
    "sealed",
    "sealing_problem",
    "with_seal",
]

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_REJECTED, EXIT_NOT_FOUND, EXIT_VERIFY = range(6)
EXIT_NOT_SEALED = 6
"""The write committed (its answer is on stdout) but sealing it failed: do not retry."""
EXIT_CONFLICT = 7
"""Other writers kept winning or held the lock too long; nothing of the call was written."""
EXIT_STORE = 8
"""The store is unreachable, was lost, or failed (full or read-only disk, database error)."""


EXIT_CODES: tuple[tuple[type[LedgerError], int], ...] = (
    (BatchRejected, EXIT_REJECTED),
    (NotFound, EXIT_NOT_FOUND),
    (VerificationFailed, EXIT_VERIFY),
    (ConfigurationError, EXIT_USAGE),
    (WriteConflict, EXIT_CONFLICT),
    (StoreError, EXIT_STORE),
)

USAGE_ERROR = "usage_error"
"""The rule of a command line that the parser refuses (exit 2)."""


UNEXPECTED = "unexpected_failure"
"""The rule of a failure the ledger did not raise on purpose (exit 1)."""

Progress = Callable[[int, int], None]

_TIMESTAMP = TypeAdapter[datetime](Timestamp)


# --- streams ----------------------------------------------------------------------


class Io:
    """The three streams of a command, how it writes JSON and how it reports errors."""

    def __init__(
        self, stdin: IO[bytes], stdout: TextIO, stderr: TextIO, *, json_errors: bool = False
    ) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.json_errors = json_errors
        """--json was asked for: errors go to stderr as JSON objects too."""

    @staticmethod
    def dumps(value: Any) -> str:
        """Indented JSON text with a final newline, every instant in one format."""
        return orjson.dumps(uniform_times(value), option=orjson.OPT_INDENT_2).decode() + "\n"

    def json(self, value: Any) -> None:
        """Write a value as JSON to stdout."""
        self.stdout.write(self.dumps(value))

    def line(self, text: str = "") -> None:
        """Write a line of text to stdout."""
        self.stdout.write(text + "\n")

    def problem(self, rule: str, message: str, field: str | None = None) -> None:
        """Report an error on stderr: one JSON object under --json, else ``ledger: ...``."""
        if self.json_errors:
            self.stderr.write(orjson.dumps(problem(rule, message, field)).decode() + "\n")
        else:
            self.stderr.write(f"ledger: {message}\n")


# --- the parser -------------------------------------------------------------------


class UsageError(Exception):
    """The command line does not parse; reported by ``main`` (exit 2)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message

    def report(self, io: Io) -> None:
        """Usage and message as argparse writes them, or one problem object under --json."""
        if io.json_errors:
            named = re.match(r"argument (?P<field>[^:]+): (?P<message>.*)", self.message, re.S)
            missing = re.match(r"the following arguments are required: (.*)", self.message)
            if named is not None:
                io.problem(USAGE_ERROR, named["message"], named["field"])
            else:
                io.problem(USAGE_ERROR, self.message, missing[1] if missing else None)
            return
        io.stderr.write(self.parser.format_usage())
        io.stderr.write(f"{self.parser.prog}: error: {self.message}\n")


class Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        """Refuse the command line."""
        raise UsageError(self, message)


def shared_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """``--store``, ``--key-file`` and ``--json``: before the command or after it.

    After the command their default is "not given", so a value given before the
    command stands unless the same option is given again after it (which wins).
    """
    absent: Any = argparse.SUPPRESS if after_command else None
    parser.add_argument(
        "--store", metavar="URL", default=absent,
        help="the store: sqlite:///path.db or postgresql://user@host:5432/db?schema=name"
        " (default: $LEDGER_STORE, else sqlite:///ledger.db)",
    )  # fmt: skip
    parser.add_argument(
        "--key-file", metavar="FILE", default=absent,
        help="the master key file (default: $LEDGER_MASTER_KEY_FILE, else <db>.master.key"
        " beside a SQLite store); $LEDGER_MASTER_KEY overrides any file",
    )  # fmt: skip
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS if after_command else False,
        help="print JSON instead of a table (no change where the output is JSON already);"
        " errors go to stderr as JSON objects too",
    )  # fmt: skip


def command(
    sub: Any,
    name: str,
    run: Callable[[argparse.Namespace, Io], int],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """Add a command whose help is the first line of its function's docstring."""
    summary = (run.__doc__ or "").strip().splitlines()[0]
    parser: argparse.ArgumentParser = sub.add_parser(
        name, parents=[common], help=summary, description=summary
    )
    parser.set_defaults(run=run)
    return parser


def group(sub: Any, name: str, summary: str, common: argparse.ArgumentParser) -> Any:
    """Add a command that has subcommands (``notice``, ``keys``)."""
    parser = sub.add_parser(name, parents=[common], help=summary, description=summary)
    return parser.add_subparsers(
        dest=f"{name}_command", metavar="SUBCOMMAND", required=True, title="subcommands"
    )


# --- argument types ---------------------------------------------------------------


def timestamp(text: str) -> datetime:
    """An RFC 3339 instant with an offset."""
    try:
        return _TIMESTAMP.validate_python(text)
    except ValidationError:
        msg = f"not an RFC 3339 timestamp with an offset: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def positive(text: str) -> int:
    """A whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        msg = f"must be a positive whole number: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def when_options(parser: argparse.ArgumentParser) -> None:
    """``--at`` and ``--known-at``: valid time and what the ledger knew."""
    parser.add_argument(
        "--at", type=timestamp, metavar="TIME",
        help="the instant the answer is about (RFC 3339 with an offset; default: now)",
    )  # fmt: skip
    parser.add_argument(
        "--known-at", type=timestamp, metavar="TIME",
        help="answer with only what had been recorded by then (default: everything)",
    )  # fmt: skip


# --- commands ---------------------------------------------------------------------


_OPENED: ContextVar[list[Core] | None] = ContextVar("opened_cores", default=None)


def watch(core: Core) -> Core:
    """Remember a core the command opened, so ``main`` can report a failed seal."""
    opened = _OPENED.get()
    if opened is not None:
        opened.append(core)
    return core


def watching() -> list[Core]:
    """Start remembering the cores opened from here on (one command); returns them."""
    opened: list[Core] = []
    _OPENED.set(opened)
    return opened


def open_from(args: argparse.Namespace) -> Core:
    """The ledger named by --store and --key-file, wired by the composition root."""
    return watch(bootstrap(args.store, key_file=args.key_file))


def table(io: Io, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """A plain text table; instants in UTC to the second."""
    cells = [[_cell(c, r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    io.line("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        io.line("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if is_time_key(column) and isinstance(value, datetime | str):
        return human_time(value)
    return str(value)


def progress_bar(io: Io, label: str) -> Progress | None:
    """A progress bar on stderr when it is a terminal; None (no output) otherwise."""
    if not io.stderr.isatty():
        return None
    width = 30

    def show(position: int, target: int) -> None:
        done = min(1.0, position / target) if target else 1.0
        bar = "#" * int(done * width)
        io.stderr.write(f"\r{label} [{bar:<{width}}] {done:4.0%} position {position}/{target}")
        if position >= target:
            io.stderr.write("\n")
        io.stderr.flush()

    return show
