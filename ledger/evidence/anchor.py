"""Checkpoints anchored outside the store: an append-only file the database cannot rewrite.

Every checkpoint the sealer signs is also appended to a file beside the keys
(``<name>.checkpoints`` next to ``<name>.master.key``; ``LEDGER_CHECKPOINT_FILE`` or
``bootstrap(checkpoint_file=...)`` to put it elsewhere). One record per line, the
same shape as an export's ``checkpoints.ndjson``: ``{"size": N, "note": "..."}``
with the C2SP signed note (and ``bindings_from``, see
:mod:`ledger.evidence.binding`). Records are written with ``O_APPEND`` and ``fsync``;
the file is never rewritten. Whoever can change the database cannot change this
file, so ``verify`` proves the log against it: a store rolled back or truncated
below an anchored checkpoint, a checkpoint deleted from the store, or events
rewritten under an anchored root are all caught.

The same reader takes an auditor's ``--checkpoint FILE``: a file of such records,
the JSON ``ledger seal`` prints, or one signed note.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import ConfigurationError

_TAIL = 8192


@dataclass(frozen=True, slots=True)
class AnchorRecord:
    """One anchored checkpoint: its size as recorded and its signed note."""

    size: int
    note: str
    line: int
    bindings_from: int | None = None


@dataclass(slots=True)
class AnchorRead:
    """What an anchor file held: its records and the lines that could not be read."""

    path: Path
    exists: bool
    records: list[AnchorRecord] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)


def _record(text: str, number: int) -> AnchorRecord | None:
    try:
        item = json.loads(text)
    except ValueError:
        return None
    if not isinstance(item, dict):
        return None
    size, note, since = item.get("size"), item.get("note"), item.get("bindings_from")
    if isinstance(size, bool) or not isinstance(size, int) or not isinstance(note, str):
        return None
    return AnchorRecord(size, note, number, since if isinstance(since, int) else None)


def parse_records(text: str, path: Path) -> AnchorRead:
    """Records of an anchor (or export) file's text; a lone signed note is one record."""
    read = AnchorRead(path, exists=True)
    whole = _record(text, 1) if text.lstrip().startswith("{") else None
    if whole is not None:  # one JSON document, e.g. what `ledger seal` prints
        read.records.append(whole)
        return read
    if text.strip() and not text.lstrip().startswith("{"):
        size_line = text.split("\n")[1:2]
        size = int(size_line[0]) if size_line and size_line[0].isdigit() else -1
        read.records.append(AnchorRecord(size, text, 1))
        return read
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = _record(line, number)
        if record is None:
            read.unreadable.append(number)
        else:
            read.records.append(record)
    return read


def read_checkpoint_file(path: Path) -> AnchorRead:
    """An auditor's checkpoint file; a clear error when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        msg = f"cannot read the checkpoint file {path}: {e.strerror}"
        raise ConfigurationError(msg) from None
    except UnicodeDecodeError:
        msg = f"the checkpoint file {path} is not UTF-8 text"
        raise ConfigurationError(msg) from None
    return parse_records(text, path)


class CheckpointAnchor:
    """The append-only checkpoint file of one store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> AnchorRead:
        """Every record (an absent file reads as ``exists=False``, no records)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return AnchorRead(self.path, exists=False)
        except OSError as e:
            msg = f"cannot read the checkpoint anchor {self.path}: {e.strerror}"
            raise ConfigurationError(msg) from None
        return parse_records(text, self.path)

    def newest(self) -> AnchorRecord | None:
        """The record of the largest size among the last ones (reads only the tail)."""
        try:
            with self.path.open("rb") as f:
                f.seek(0, os.SEEK_END)
                end = f.tell()
                f.seek(max(0, end - _TAIL))
                tail = f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return None
        lines = tail.split("\n")[1 if end > _TAIL else 0 :]
        records = [r for r in (_record(line, 0) for line in lines) if r is not None]
        return max(records, key=lambda r: r.size, default=None)

    def append(self, size: int, note: str, *, bindings_from: int | None = None) -> None:
        """Append one record durably (``O_APPEND``, ``fsync``); the file is made 0600."""
        record: dict[str, object] = {"size": size, "note": note}
        if bindings_from is not None:
            record["bindings_from"] = bindings_from
        line = (json.dumps(record) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            fd = os.open(self.path, flags, stat.S_IRUSR | stat.S_IWUSR)
        except OSError as e:
            msg = f"cannot write the checkpoint anchor {self.path}: {e.strerror}"
            raise ConfigurationError(msg) from None
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
