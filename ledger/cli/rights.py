"""Commands for data-subject rights and keys: erase, retention, export, keys rotate-master."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ledger.cli.common import EXIT_OK, Io, command, group, open_from, sealed, table, timestamp
from ledger.rights.erasure import erase, erasure_answer
from ledger.rights.key_rotation import rotate_master
from projections.export.build import build_export
from projections.export.html import render_html
from projections.retention.apply import retention


def cmd_erase(args: argparse.Namespace, io: Io) -> int:
    """Destroy the keys of every category that may be erased now; report what is held."""
    core = open_from(args)
    try:
        categories = args.category.split(",") if args.category else None
        result = erase(
            core.ledger, args.subject, reason=args.reason, categories=categories,
            scope="category" if categories else "subject", actor=args.actor,
        )  # fmt: skip
        answer = erasure_answer(result)
    finally:
        core.close()
    io.json(answer.model_dump(mode="json") | {"checkpoint": sealed(core)})
    return EXIT_OK


def cmd_retention(args: argparse.Namespace, io: Io) -> int:
    """What is due for erasure and what is held and why; --apply erases what is due."""
    core = open_from(args)
    try:
        answer = retention(core.ledger, core.store, at=args.at, apply=args.apply, kept=args.all)
    finally:
        core.close()
    if args.json or args.apply:
        io.json(answer.model_dump(mode="json"))
    else:
        rows = [
            e.model_dump(mode="json") for e in [*answer.due, *answer.held, *(answer.kept or [])]
        ]
        table(io, ["subject", "category", "status", "until", "legal_reference", "reason"], rows)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, io: Io) -> int:
    """Everything held about a subject (Art. 15, Art. 20), as JSON or a readable page."""
    core = open_from(args)
    try:
        document = build_export(core.views(), args.subject)
    finally:
        core.close()
    if args.format == "html":
        text = render_html(document)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            io.line(text)
    elif args.output:
        Path(args.output).write_text(io.dumps(document), encoding="utf-8")
    else:
        io.json(document)
    return EXIT_OK


def cmd_rotate_master(args: argparse.Namespace, io: Io) -> int:
    """Re-wrap every data key under a new master key, without touching events."""
    core = open_from(args)
    try:
        done = rotate_master(core.ledger)
    finally:
        core.close()
    io.json({"rewrapped_keys": done.keys, "old_master_key_id": done.old_id,
             "new_master_key_id": done.new_id, "new_key": done.where})  # fmt: skip
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the rights and key commands to the parser."""
    erase_ = command(sub, "erase", cmd_erase, common)
    erase_.add_argument("subject", help="the subject's reference, e.g. C-1001")
    erase_.add_argument(
        "--reason", required=True,
        help="why, e.g. the request's reference; stored readable, so no personal data",
    )  # fmt: skip
    erase_.add_argument(
        "--category", metavar="C,...",
        help="erase only these categories (comma-separated; default: the whole subject)",
    )  # fmt: skip
    erase_.add_argument(
        "--actor", default="ledger-cli", help="who performs the erasure (default: ledger-cli)"
    )

    retention = command(sub, "retention", cmd_retention, common)
    retention.add_argument(
        "--at", type=timestamp, metavar="TIME", help="instant to judge at (default: now)"
    )
    retention.add_argument(
        "--apply", action="store_true", help="erase what is due now (prints JSON)"
    )
    retention.add_argument("--all", action="store_true", help="also list what is kept and why")

    export = command(sub, "export", cmd_export, common)
    export.add_argument("subject", help="the subject's reference, e.g. C-1001")
    export.add_argument(
        "--format", choices=["json", "html"], default="json",
        help="json (machine-readable, Art. 20) or html (a page for the person; default: json)",
    )  # fmt: skip
    export.add_argument("--output", metavar="FILE", help="write to this file instead of stdout")

    keys = group(sub, "keys", "Manage the master key.", common)
    command(keys, "rotate-master", cmd_rotate_master, common)
