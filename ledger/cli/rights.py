"""Commands for data-subject rights and keys: erase, retention, export, keys rotate-master."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ledger.cli.common import EXIT_OK, Io, open_from, seal_now, table, timestamp
from ledger.erasure import ErasureResult, erase
from ledger.key_rotation import rotate_master
from projections.export.build import build_export
from projections.export.html import render_html
from projections.queries import Views
from projections.retention.view import list_retention
from schemas.answers import ErasureAnswer, RetentionAnswer


def _erasure(result: ErasureResult) -> ErasureAnswer:
    return ErasureAnswer(
        subject=result.subject,
        erased=list(result.erased),
        held=[h.model_dump(mode="json") for h in result.held],
        reference_removed=result.reference_removed,
        position=result.position,
    )


def cmd_erase(args: argparse.Namespace, io: Io) -> int:
    """Destroy the keys of every category that may be erased now; report what is held."""
    ledger = open_from(args)
    try:
        categories = args.category.split(",") if args.category else None
        result = erase(
            ledger, args.subject, reason=args.reason, categories=categories,
            scope="category" if categories else "subject", actor=args.actor,
        )  # fmt: skip
        answer = _erasure(result)
        checkpoint = seal_now(ledger) if result.position is not None else None
    finally:
        ledger.close()
    io.json(answer.model_dump(mode="json") | {"checkpoint": checkpoint})
    return EXIT_OK


def cmd_retention(args: argparse.Namespace, io: Io) -> int:
    """What is due for erasure and what is held and why; --apply erases what is due."""
    ledger = open_from(args)
    try:
        views = Views(ledger)
        at = args.at or ledger.clock.now()
        refs = ledger.ledger_recorder.select_refs
        entries = list_retention(views.store, refs, ledger.notices, at, kept=args.all)
        applied: list[dict[str, Any]] | None = None
        if args.apply:
            applied = _apply(ledger, [e for e in entries if e.status == "due"])
        answer = RetentionAnswer(
            at=at,
            due=[e for e in entries if e.status == "due"],
            held=[e for e in entries if e.status == "held"],
            kept=[e for e in entries if e.status == "kept"] if args.all else None,
            applied=applied,
        )
    finally:
        ledger.close()
    if args.json or args.apply:
        io.json(answer.model_dump(mode="json"))
    else:
        rows = [
            e.model_dump(mode="json") for e in [*answer.due, *answer.held, *(answer.kept or [])]
        ]
        table(io, ["subject", "category", "status", "until", "legal_reference", "reason"], rows)
    return EXIT_OK


def _apply(ledger: Any, due: list[Any]) -> list[dict[str, Any]]:
    by_subject: dict[str, list[str]] = {}
    for entry in due:
        by_subject.setdefault(entry.subject, []).append(entry.category)
    done = []
    for subject, categories in sorted(by_subject.items()):
        result = erase(
            ledger, subject, reason="retention period ended", categories=categories,
            scope="retention",
        )  # fmt: skip
        done.append(_erasure(result).model_dump(mode="json"))
    if done:
        seal_now(ledger)
    return done


def cmd_export(args: argparse.Namespace, io: Io) -> int:
    """Everything held about a subject (Art. 15, Art. 20), as JSON or a readable page."""
    ledger = open_from(args)
    try:
        document = build_export(Views(ledger), args.subject)
    finally:
        ledger.close()
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
    ledger = open_from(args)
    try:
        done = rotate_master(ledger)
    finally:
        ledger.close()
    io.json({"rewrapped_keys": done.keys, "old_master_key_id": done.old_id,
             "new_master_key_id": done.new_id, "new_key": done.where})  # fmt: skip
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the rights and key commands to the parser."""
    erase_ = sub.add_parser("erase", parents=[common], help=cmd_erase.__doc__)
    erase_.add_argument("subject")
    erase_.add_argument("--reason", required=True, help="e.g. the request's reference")
    erase_.add_argument("--category", help="only these categories (comma-separated)")
    erase_.add_argument("--actor", default="ledger-cli", help="who performs the erasure")
    erase_.set_defaults(run=cmd_erase)

    retention = sub.add_parser("retention", parents=[common], help=cmd_retention.__doc__)
    retention.add_argument("--at", type=timestamp, help="instant to judge at (default: now)")
    retention.add_argument("--apply", action="store_true", help="erase what is due")
    retention.add_argument("--all", action="store_true", help="also list what is kept")
    retention.add_argument("--json", action="store_true")
    retention.set_defaults(run=cmd_retention)

    export = sub.add_parser("export", parents=[common], help=cmd_export.__doc__)
    export.add_argument("subject")
    export.add_argument("--format", choices=["json", "html"], default="json")
    export.add_argument("--output", help="write to this file instead of stdout")
    export.set_defaults(run=cmd_export)

    keys = sub.add_parser("keys", help="key management")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate-master", parents=[common], help=cmd_rotate_master.__doc__)
    rotate.set_defaults(run=cmd_rotate_master)
