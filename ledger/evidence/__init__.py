"""Tamper evidence: the Merkle tree over the log, checkpoints, sealing policy, proofs.

``ledger.integrity`` holds the pure algorithms; this package applies them to a store.
"""
