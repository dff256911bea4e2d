"""Commands for data-subject rights and keys: erase, retention, export, keys rotate-master."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from ledger.access.records import export_categories
from ledger.bootstrap import Core
from ledger.cli.access import checked_purpose, purpose_option, record_cli_read
from ledger.cli.common import EXIT_OK, Io, command, group, open_from, table, timestamp, with_seal
from ledger.errors import ConfigurationError, InvalidRequest
from ledger.rights.erasure import erase, erasure_answer
from ledger.rights.key_rotation import rotate_master
from projections.export.build import build_export
from projections.export.html import render_html
from projections.export.words import LANGUAGES
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
    except InvalidRequest as e:
        if e.field == "categories":
            e.field = "--category"
        raise
    finally:
        core.close()
    io.json(with_seal(core, answer.model_dump(mode="json")))
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
    purpose = checked_purpose(args)
    core = open_from(args)
    try:
        output = None if args.output is None else _output_path(core, args.output, args.force)
        document = build_export(core.views(), args.subject)
        categories = export_categories(document)
        record_cli_read(core.ledger, args.subject, categories, "export", purpose)
    finally:
        core.close()
    text = render_html(document, args.lang) if args.format == "html" else io.dumps(document)
    if output is None:
        io.stdout.write(text if args.format == "json" else text + "\n")
    else:
        _write(output, text, replace=args.force)
    return EXIT_OK


def _ledger_files(core: Core) -> set[Path]:
    """The store's own files, its keys and checkpoints: never an export's destination.

    Besides these, every file named like the SQLite file (``ledger.db.*``) or like the
    master key (``<name>.*`` beside ``<name>.master.key``: the signing key, the
    checkpoints) is refused.
    """
    ledger = core.ledger
    files = {ledger.key_source.path, ledger.signing_key.path}
    files |= {p.with_name(p.name + ".new") for p in set(files)}
    db = ledger.store.sqlite_path
    if db is not None:
        files |= {db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))}
    return {p.resolve() for p in files}


def _output_path(core: Core, name: str, force: bool) -> Path:
    """Where ``--output`` may write: never a ledger file; an existing file only with --force."""
    path = Path(name)
    resolved = path.resolve()
    db = core.ledger.store.sqlite_path
    beside_db = db is not None and resolved.parent == db.resolve().parent and (
        resolved.name.startswith(db.name + ".")
    )  # fmt: skip
    key = core.ledger.key_source.path.resolve()
    stem = key.name.removesuffix(".master.key").removesuffix(".key")
    beside_key = resolved.parent == key.parent and resolved.name.startswith(stem + ".")
    if resolved in _ledger_files(core) or beside_db or beside_key:
        msg = (
            f"--output {name} is the ledger's store or key file, or named like one: choose another"
        )
        raise InvalidRequest(msg, rule="protected_file", field="--output")
    if not resolved.parent.is_dir():
        msg = f"--output {name}: the folder {path.parent} does not exist"
        raise InvalidRequest(msg, rule="no_such_folder", field="--output")
    if resolved.is_dir():
        msg = f"--output {name} is a folder: name a file"
        raise InvalidRequest(msg, rule="file_exists", field="--output")
    if path.exists() and not force:
        msg = f"--output {name} exists: add --force to replace it"
        raise InvalidRequest(msg, rule="file_exists", field="--output")
    return path


def _write(path: Path, text: str, *, replace: bool) -> None:
    """Write a new file (never one that appeared meanwhile), or replace it whole."""
    data = text.encode("utf-8")
    try:
        if not replace:
            with path.open("xb") as f:
                f.write(data)
            return
        fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            Path(scratch).replace(path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
    except FileExistsError:
        msg = f"--output {path} exists: add --force to replace it"
        raise InvalidRequest(msg, rule="file_exists", field="--output") from None
    except OSError as e:
        msg = f"cannot write --output {path}: {e.strerror}"
        raise ConfigurationError(msg) from None


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
    export.add_argument(
        "--output", metavar="FILE",
        help="write to this new file instead of stdout (never the store's or a key's file)",
    )  # fmt: skip
    export.add_argument("--force", action="store_true", help="replace --output if it exists")
    export.add_argument(
        "--lang", choices=list(LANGUAGES), metavar="en|fi",
        help="the page's language with --format html (default: the register's language)",
    )  # fmt: skip
    purpose_option(export)

    keys = group(sub, "keys", "Manage the master key.", common)
    command(keys, "rotate-master", cmd_rotate_master, common)
