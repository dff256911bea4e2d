"""The ``ledger`` command: argparse in, JSON or a readable table out.

``main(argv, stdin, stdout, stderr) -> exit code``; one table maps error types to
exit codes (0 ok, 1 unexpected, 2 usage, 3 input rejected, 4 not found,
5 verification failed, 6 written but not sealed, 7 write conflict, 8 store
failed). Refused input goes to stderr as one JSON object per line;
under ``--json`` every other error does too. The commands live by what they
touch: ``write`` (init, notice, append, demo), ``read`` (views, notifications), ``policy``
(check, findings, lineage, disclosures), ``rights`` (erase, retention, export,
keys), ``integrity`` (seal, verify, proofs, export-log) and ``access`` (tokens,
access log).
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import redirect_stdout
from typing import IO, TextIO

import orjson
import psycopg
from eventsourcing.persistence import PersistenceError

from ledger.bootstrap import Core
from ledger.cli import access, integrity, policy, read, rights, serve, standards, write
from ledger.cli.common import (
    EXIT_CODES,
    EXIT_NOT_SEALED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    NOT_SEALED,
    UNEXPECTED,
    Io,
    Parser,
    UsageError,
    error_field,
    error_rule,
    sealing_problem,
    shared_options,
    watching,
)
from ledger.errors import BatchRejected, LedgerError
from ledger.persistence.sources import store_config
from ledger.persistence.store import redact_url, store_failure

DEBUG_ENV = "LEDGER_DEBUG"
"""Set to 1 to print the traceback of an unexpected failure (never needed otherwise)."""

DESCRIPTION = """\
Record what is done with customers' personal data, and answer for it.

Each change to personal data, each consent granted or withdrawn, each disclosure
and each privacy-notice version is an event appended to a tamper-evident log,
checked against the register definition (the privacy notice) in force when it
happened. Personal values are encrypted per subject and category.
"""

EPILOG = """\
commands by what they do:
  set up and write   init, notice publish, notice list, notice show, notice diff,
                     append, demo
  ask                trail, subject, basis, check, findings, lineage, disclosures,
                     notifications
  rights and keys    export, erase, retention, keys rotate-master
  tamper evidence    seal, verify, prove, verify-proof, export-log, public-key
  receipts           receipt, receipt-key, verify-receipt
  views              rebuild, replay --compare, project
  serve              serve (the HTTP service)
  access             token create, token list, token revoke, access-log

--store, --key-file and --json may be given before or after the command (after
wins when both are). `ledger COMMAND --help` describes one command.

environment:
  LEDGER_STORE             the store when --store is not given
  LEDGER_MASTER_KEY        the master key itself (base64 of 32 bytes)
  LEDGER_MASTER_KEY_FILE   the master key file when --key-file is not given
  LEDGER_SIGNING_KEY       the checkpoint signing key itself
  LEDGER_SIGNING_KEY_FILE  the signing key file (default: beside the master key)
  LEDGER_RECEIPT_KEY_FILE  the receipt signing key file (default: beside the master key)
  LEDGER_NEW_MASTER_KEY    the new master key for `keys rotate-master`
                           when the current one comes from LEDGER_MASTER_KEY
  LEDGER_LOCK_TIMEOUT      seconds a SQLite writer waits for another's lock (default 30)
  LEDGER_CONNECT_TIMEOUT   seconds to wait for a PostgreSQL connection (default 5)

exit codes:
  0 ok, 1 unexpected failure, 2 usage or configuration, 3 input refused (one JSON
  object per problem on stderr), 4 not found, 5 verification failed, 6 written but
  not sealed (do not retry; fix the cause, then `ledger seal`), 7 write conflict or
  lock timeout (nothing of the call written; retry), 8 store unreachable, lost or
  failed (a batched append reports the lines committed before it)

The full reference (every command, the NDJSON envelope, the event types, the rule
codes) is docs/reference.md in the project.
"""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    shared_options(common, after_command=True)
    parser = Parser(
        prog="ledger",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    shared_options(parser, after_command=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")
    for module in (write, read, policy, rights, integrity, access, serve, standards):
        module.register(sub, common)
    return parser


def command_parsers(
    parser: argparse.ArgumentParser | None = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand (``"notice publish"``) with its parser, in help order."""
    for action in (parser or _parser())._actions:  # argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield " ".join((*path, name)), child
                yield from command_parsers(child, (*path, name))


def _asks_for_json(argv: Sequence[str]) -> bool:
    """Whether --json is on the command line (before any ``--``), parsed or not."""
    end = argv.index("--") if "--" in argv else len(argv)
    return "--json" in argv[:end]


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    streams = Io(
        stdin or sys.stdin.buffer,
        stdout or sys.stdout,
        stderr or sys.stderr,
        json_errors=_asks_for_json(arguments),
    )
    try:
        with redirect_stdout(streams.stdout):  # --help goes where the caller reads
            args = _parser().parse_args(arguments)
    except UsageError as e:
        e.report(streams)
        return EXIT_USAGE
    except SystemExit as e:  # --help
        return int(e.code or 0)
    streams.json_errors = args.json
    run: Callable[[argparse.Namespace, Io], int] = args.run
    opened = watching()
    try:
        code = run(args, streams)
    except BrokenPipeError:
        return EXIT_OK  # the reader (e.g. `head`) went away; nothing more to say
    except BatchRejected as e:
        for v in e.violations:
            streams.stderr.write(orjson.dumps(v.as_dict()).decode() + "\n")
        code = EXIT_REJECTED
    except LedgerError as e:
        code = _report(streams, e)
    except (PersistenceError, psycopg.Error, sqlite3.Error) as e:
        code = _report(streams, _store_failure(args, e))
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        code = _unexpected(streams, args, e)
    return _unsealed(streams, opened, code)


def _store_failure(args: argparse.Namespace, error: Exception) -> LedgerError:
    try:
        return store_failure(store_config(args.store), error)
    except LedgerError as e:  # the store setting itself is wrong: say that
        return e


def _report(streams: Io, error: LedgerError) -> int:
    streams.problem(error_rule(error), str(error), error_field(error))
    return next((c for t, c in EXIT_CODES if isinstance(error, t)), EXIT_UNEXPECTED)


def _unexpected(streams: Io, args: argparse.Namespace, error: Exception) -> int:
    """One line naming the failure; the traceback only when LEDGER_DEBUG=1."""
    if os.environ.get(DEBUG_ENV) == "1":
        traceback.print_exception(error, file=streams.stderr)
    detail = str(error) if not isinstance(error, OSError) else (
        f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}"
    )  # fmt: skip
    try:
        detail = store_config(args.store).scrub(detail)
    except LedgerError:
        detail = redact_url(detail)
    message = f"unexpected failure: {type(error).__name__}: {' '.join(detail.split())}"
    streams.problem(UNEXPECTED, message + f" (set {DEBUG_ENV}=1 for the traceback)")
    return EXIT_UNEXPECTED


def _unsealed(streams: Io, opened: list[Core], code: int) -> int:
    """Warn when a committed write could not be sealed: exit 6 instead of 0.

    A command that failed otherwise keeps its own exit code and its one line; the
    answer it printed for what committed (``append --batch-size``) carries the
    sealing problem as ``sealing_problem``.
    """
    if code != EXIT_OK:
        return code
    for core in opened:
        unsealed = sealing_problem(core)
        if unsealed is not None:
            streams.problem(NOT_SEALED, unsealed["message"])
            code = EXIT_NOT_SEALED
    return code


def run_captured(argv: Sequence[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run in-process with captured streams: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, io.BytesIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()
