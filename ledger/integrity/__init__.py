"""Tamper evidence for the event log: Merkle trees and signed checkpoints.

Both modules are pure (standard library and ``cryptography`` only) so that an
independent verifier can run them against an exported log without the ledger's
storage stack:

- :mod:`ledger.integrity.merkle` hashes leaves and trees exactly as RFC 6962 /
  RFC 9162 do, streams tree heads in bounded memory, and generates and verifies
  inclusion and consistency proofs.
- :mod:`ledger.integrity.checkpoint` signs and opens tree heads as C2SP
  ``tlog-checkpoint`` signed notes with Ed25519 (C2SP ``signed-note``), so public
  transparency-log tooling can check them.
"""

from __future__ import annotations
