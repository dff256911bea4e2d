"""Write the JSON Schema files under schemas/json, or check they are current.

``python -m schemas.export`` writes them; ``python -m schemas.export --check``
exits 1 and names the stale files when a model changed without regenerating.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from schemas import answers, receipts
from schemas import events as ev
from schemas.register import RegisterDefinition

OUT = Path(__file__).parent / "json"


def documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for everything the contract publishes (answers as serialized)."""
    docs: dict[str, dict[str, Any]] = {
        "append-line.schema.json": TypeAdapter(ev.AppendLine).json_schema(),
        "register-definition.schema.json": RegisterDefinition.model_json_schema(),
    }
    models: list[type[BaseModel]] = [*ev.EVENT_TYPES.values(), *answers.ANSWERS, *receipts.RECEIPTS]
    for model in models:
        mode: JsonSchemaMode = "serialization" if model in answers.ANSWERS else "validation"
        docs[f"{_kebab(model.__name__)}.schema.json"] = model.model_json_schema(mode=mode)
    for doc in docs.values():
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return docs


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def _render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale_files() -> list[str]:
    """Names of schema files that differ from the models (or are missing or extra)."""
    docs = documents()
    stale = [
        name
        for name, doc in docs.items()
        if not (OUT / name).exists() or (OUT / name).read_text(encoding="utf-8") != _render(doc)
    ]
    stale += [p.name for p in OUT.glob("*.schema.json") if p.name not in docs]
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    """Write or check the schema files."""
    parser = argparse.ArgumentParser(prog="python -m schemas.export")
    parser.add_argument("--check", action="store_true", help="fail if any file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        if stale:
            sys.stderr.write("stale JSON Schemas (run `make schemas`): " + ", ".join(stale) + "\n")
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.schema.json"):
        old.unlink()
    for name, doc in documents().items():
        (OUT / name).write_text(_render(doc), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
