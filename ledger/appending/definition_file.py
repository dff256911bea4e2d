"""Reading a register definition file (TOML) into a checked RegisterDefinition."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ledger.errors import BatchRejected, ConfigurationError, Violation
from schemas.register import RegisterDefinition


@dataclass(frozen=True, slots=True)
class DefinitionFile:
    """A definition as read from disk, with the digest recorded when it is published."""

    path: Path
    definition: RegisterDefinition
    digest: str


def load_definition(path: Path) -> DefinitionFile:
    """Parse and validate a definition; every problem is a violation naming its field."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        msg = f"cannot read the register definition {path}: {e.strerror}"
        raise ConfigurationError(msg) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        line = getattr(e, "lineno", None)
        violation = Violation(line or 0, "RegisterDefinition", None, "invalid_toml", str(e))
        raise BatchRejected([violation]) from None
    try:
        definition = RegisterDefinition.model_validate(data)
    except ValidationError as e:
        violations = [
            Violation(
                0,
                "RegisterDefinition",
                ".".join(str(p) for p in item["loc"]) or None,
                "missing_field" if item["type"] == "missing" else
                "unknown_field" if item["type"] == "extra_forbidden" else item["type"],
                item["msg"],
            )
            for item in e.errors(include_input=False, include_url=False)
        ]  # fmt: skip
        raise BatchRejected(violations) from None
    return DefinitionFile(path, definition, hashlib.sha256(raw).hexdigest())
