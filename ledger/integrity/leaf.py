r"""The Merkle leaf of a stored event: every stored column, exactly as stored.

``leaf_data`` is a fixed, unambiguous encoding (lengths before variable fields):

    b"ledger-event/1\\x00" || position (u64) || stream id (16 bytes) || version (u64)
    || len(topic) (u16) || topic (UTF-8) || len(state) (u32) || state (the stored bytes)

and the leaf hash is the RFC 9162 ``SHA-256(0x00 || leaf_data)``. Because the
state is hashed as stored (ciphertext included), destroying a data key never
changes a leaf: erasure does not break verification.
"""

from __future__ import annotations

import struct
from uuid import UUID

from ledger.integrity.merkle import leaf_hash

_PREFIX = b"ledger-event/1\x00"


def leaf_data(position: int, stream_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The bytes a stored event contributes to the tree."""
    encoded_topic = topic.encode("utf-8")
    return b"".join(
        (
            _PREFIX,
            struct.pack(">Q", position),
            stream_id.bytes,
            struct.pack(">QH", version, len(encoded_topic)),
            encoded_topic,
            struct.pack(">I", len(state)),
            state,
        )
    )


def event_leaf_hash(
    position: int, stream_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The RFC 9162 leaf hash of a stored event."""
    return leaf_hash(leaf_data(position, stream_id, version, topic, state))
