"""The ``ledger`` command: argparse in, JSON or a readable table out.

``main(argv, stdin, stdout, stderr) -> exit code``; one table maps error types to
exit codes (0 ok, 1 unexpected, 2 usage, 3 input rejected, 4 not found,
5 verification failed). Refused input goes to stderr as one JSON object per line.
The commands live by what they touch: ``write`` (init, notice, append, demo),
``read`` (views), ``integrity`` (seal, verify, proofs, export).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Sequence
from typing import IO, TextIO

import orjson

from ledger.cli import integrity, policy, read, rights, write
from ledger.cli.common import EXIT_CODES, EXIT_OK, EXIT_REJECTED, EXIT_UNEXPECTED, Io
from ledger.errors import BatchRejected, LedgerError


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="store URL (default: $LEDGER_STORE or sqlite:///ledger.db)")
    common.add_argument("--key-file", help="master key file (default: beside the store)")
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (write, read, integrity, rights, policy):
        module.register(sub, common)
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code."""
    streams = Io(stdin or sys.stdin.buffer, stdout or sys.stdout, stderr or sys.stderr)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    run: Callable[[argparse.Namespace, Io], int] = args.run
    try:
        return run(args, streams)
    except BrokenPipeError:
        return EXIT_OK  # the reader (e.g. `head`) went away; nothing more to say
    except BatchRejected as e:
        for v in e.violations:
            streams.stderr.write(orjson.dumps(v.as_dict()).decode() + "\n")
        return EXIT_REJECTED
    except LedgerError as e:
        code = next((c for t, c in EXIT_CODES if isinstance(e, t)), EXIT_UNEXPECTED)
        streams.stderr.write(f"ledger: {e}\n")
        return code


def run_captured(argv: Sequence[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run in-process with captured streams: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, io.BytesIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()
