"""Commands for access: token create, list and revoke; the access log.

The command line's own reads of decrypted personal data (``subject``, ``export``)
are recorded through ``record_cli_read`` before anything is printed: the actor is
the OS user, the purpose the one given with ``--purpose``.
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ledger.access.records import Access, check_purpose, record_accesses
from ledger.access.tokens import ROLES, issue_token, list_tokens, revoke_token
from ledger.appending.application import Ledger
from ledger.cli.common import EXIT_OK, Io, command, group, open_from, table, timestamp
from ledger.errors import InvalidRequest
from schemas.answers import IssuedToken, TokenList

NOT_STATED = "not stated"
"""The purpose recorded when ``--purpose`` is not given."""

_OPTIONS = {
    "name": "--name",
    "role": "--role",
    "types": "--types",
    "sources": "--sources",
    "expires_at": "--expires",
    "purpose": "--purpose",
}


@contextmanager
def _options_named() -> Iterator[None]:
    """Refusals name the command line's option (``--types``), not the library's field."""
    try:
        yield
    except InvalidRequest as e:
        e.field = _OPTIONS.get(e.field, e.field)
        raise


def os_user() -> str:
    """Who runs the command: the login name, or the numeric user id when there is none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def purpose_option(parser: argparse.ArgumentParser) -> None:
    """``--purpose``: why personal data is read; recorded in the access log."""
    parser.add_argument(
        "--purpose", metavar="TEXT", default=NOT_STATED,
        help="why you read this subject's data; recorded in the access log with your OS"
        f" user (one line, at most 500 characters; default: {NOT_STATED!r})",
    )  # fmt: skip


def checked_purpose(args: argparse.Namespace) -> str:
    """The ``--purpose`` given, refused (field ``--purpose``) before anything is read."""
    return check_purpose(args.purpose, field="--purpose")


def record_cli_read(
    ledger: Ledger, subject: str, categories: tuple[str, ...], what: str, purpose: str
) -> None:
    """Record a read of decrypted data by the OS user; raises (nothing shown) if it fails."""
    access = Access(
        subject=subject, categories=categories, purpose=purpose, actor=os_user(),
        token_id=None, via="cli", what=what,
    )  # fmt: skip
    with _options_named():
        record_accesses(ledger, [access])


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def cmd_token_create(args: argparse.Namespace, io: Io) -> int:
    """Issue an access token for the HTTP service; the token is shown this once."""
    core = open_from(args)
    try:
        with _options_named():
            info, token = issue_token(
                core.ledger, name=args.name, role=args.role, types=_split(args.types),
                sources=_split(args.sources), expires_at=args.expires, actor=os_user(),
            )  # fmt: skip
    finally:
        core.close()
    issued = IssuedToken(id=info.id, name=info.name, role=info.role, token=token)
    if args.json:
        io.json(issued.model_dump(mode="json"))
        return EXIT_OK
    io.line(f"token {info.id} for {info.name} ({info.role}) created.")
    io.line("It is shown this once; the ledger keeps only its digest. Keep it secret:")
    io.line(token)
    return EXIT_OK


def cmd_token_list(args: argparse.Namespace, io: Io) -> int:
    """Every token issued, with its role, limits, expiry and revocation (never the token)."""
    core = open_from(args)
    try:
        answer = TokenList(tokens=list_tokens(core.ledger))
    finally:
        core.close()
    if args.json:
        io.json(answer.model_dump(mode="json"))
        return EXIT_OK
    rows = [_row(t.model_dump(mode="json")) for t in answer.tokens]
    columns = ["id", "name", "role", "types", "sources", "expires_at", "created_at", "revoked_at"]
    table(io, columns, rows)
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace, io: Io) -> int:
    """Revoke a token: it no longer authenticates (within a second in a running service)."""
    core = open_from(args)
    try:
        info = revoke_token(core.ledger, args.id, actor=os_user())
    finally:
        core.close()
    if args.json:
        io.json(info.model_dump(mode="json"))
    else:
        io.line(f"token {info.id} ({info.name}) is revoked.")
    return EXIT_OK


def cmd_access_log(args: argparse.Namespace, io: Io) -> int:
    """Who read decrypted personal data: when, which subject and categories, and why."""
    core = open_from(args)
    try:
        answer = core.views().access_log(since=args.since, subject=args.subject)
    finally:
        core.close()
    if args.json:
        io.json(answer.model_dump(mode="json"))
        return EXIT_OK
    rows = [_row(r.model_dump(mode="json")) for r in answer.records]
    columns = ["position", "occurred_at", "subject", "actor", "via", "what", "categories",
               "purpose"]  # fmt: skip
    table(io, columns, rows)
    return EXIT_OK


def _row(values: dict[str, Any]) -> dict[str, Any]:
    """A record for a table: lists joined, an erased subject shown as such."""
    out = {k: ", ".join(v) if isinstance(v, list) else v for k, v in values.items()}
    if "subject" in out and out["subject"] is None:
        out["subject"] = "(erased)"
    return out


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the token and access-log commands to the parser."""
    tokens = group(sub, "token", "Manage the HTTP service's access tokens.", common)
    create = command(tokens, "create", cmd_token_create, common)
    create.add_argument("--name", required=True, help="who the token is for, e.g. billing")
    create.add_argument("--role", required=True, choices=ROLES, help="what the token may do")
    create.add_argument(
        "--types", metavar="T,...",
        help="a service token may append only these event types (comma-separated)",
    )  # fmt: skip
    create.add_argument(
        "--sources", metavar="S,...",
        help="a service token may append only lines of these sources (comma-separated)",
    )  # fmt: skip
    create.add_argument(
        "--expires", type=timestamp, metavar="TIME",
        help="when the token stops working (RFC 3339, in the future; default: never)",
    )  # fmt: skip
    command(tokens, "list", cmd_token_list, common)
    revoke = command(tokens, "revoke", cmd_token_revoke, common)
    revoke.add_argument("id", help="the token's id, e.g. tok_0123456789abcdef")

    log = command(sub, "access-log", cmd_access_log, common)
    log.add_argument(
        "--since", type=timestamp, metavar="TIME", help="only reads at or after this instant"
    )
    log.add_argument("--subject", metavar="REF", help="only reads of this subject, e.g. C-1001")
