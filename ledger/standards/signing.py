"""Signing and checking receipts offline: the signature and the grant's inclusion proof.

Checking needs only the receipt public key: the signature covers every field but
``signature`` (canonical JSON: orjson with sorted keys), and the inclusion proof in
``ledger.grant_event`` must lead from its leaf hash to the root of its signed
checkpoint (RFC 9162, ``ledger.integrity``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.integrity.checkpoint import CheckpointError, open_checkpoint
from ledger.integrity.merkle import verify_inclusion
from ledger.standards.receipt_keys import public_key_text
from schemas.receipts import SIGNATURE_ALGORITHM

_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, binascii.Error)


def canonical(receipt: dict[str, Any]) -> bytes:
    """The bytes a receipt's signature is over: sorted-key JSON without ``signature``."""
    unsigned = {k: v for k, v in receipt.items() if k != "signature"}
    return orjson.dumps(unsigned, option=orjson.OPT_SORT_KEYS)


def sign(receipt: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The receipt with its ``signature`` object added."""
    value = base64.b64encode(key.sign(canonical(receipt))).decode("ascii")
    signature = {"algorithm": SIGNATURE_ALGORITHM, "public_key": public_key_text(key),
                 "value": value}  # fmt: skip
    return {**receipt, "signature": signature}


def receipt_problems(receipt: Any, key: Ed25519PublicKey) -> list[str]:
    """What fails in a receipt checked with the public key alone; empty when it verifies."""
    if not isinstance(receipt, dict):
        return ["malformed receipt: not a JSON object"]
    return [*_signature_problems(receipt, key), *_proof_problems(receipt)]


def _signature_problems(receipt: dict[str, Any], key: Ed25519PublicKey) -> list[str]:
    try:
        signature = receipt["signature"]
        if signature["algorithm"] != SIGNATURE_ALGORITHM:
            return [f"signature: algorithm must be {SIGNATURE_ALGORITHM}"]
        value = base64.b64decode(signature["value"], validate=True)
    except _MALFORMED:
        return ["signature: missing or malformed (signature.algorithm, signature.value)"]
    try:
        key.verify(value, canonical(receipt))
    except InvalidSignature:
        return ["signature: does not verify with the given public key (the receipt was"
                " changed, or signed with another key)"]  # fmt: skip
    return []


def _proof_problems(receipt: dict[str, Any]) -> list[str]:
    try:
        proof = receipt["ledger"]["grant_event"]
        head = open_checkpoint(proof["checkpoint"].encode("utf-8"), proof["verifier_key"])
        leaf = bytes.fromhex(proof["leaf_hash"])
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
    except CheckpointError as e:
        return [f"inclusion proof: checkpoint: {e}"]
    except _MALFORMED:
        return ["inclusion proof: missing or malformed (ledger.grant_event)"]
    if size != head.size:
        return [f"inclusion proof: for a tree of {size} events, the checkpoint has {head.size}"]
    if not verify_inclusion(leaf, index, size, path, head.root):
        return ["inclusion proof: the audit path does not lead from the leaf hash to the"
                " checkpoint's root"]  # fmt: skip
    return []
