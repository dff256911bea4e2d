"""The orjson transcoder: JSON bytes in the log, fast both ways."""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import Transcoder


class OrjsonTranscoder(Transcoder):
    """Encodes JSON-ready state (pydantic ``mode="json"`` dumps) with orjson."""

    def encode(self, obj: Any) -> bytes:
        """State to bytes."""
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        """Bytes to state."""
        return orjson.loads(data)
