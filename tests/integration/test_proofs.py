"""Inclusion and consistency proofs, and exported logs, checked by the standalone verifier."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ledger.appending.application import Ledger
from ledger.errors import ConfigurationError, NotFound
from ledger.evidence.proofs import export_log, prove_consistency, prove_inclusion
from ledger.integrity.checkpoint import generate_signing_key, verifier_key
from ledger.integrity.verifier import check_consistency, check_export, check_inclusion
from tests import factories as f


@pytest.fixture
def history(core, ledger: Ledger) -> Ledger:
    for i in range(1, 8):
        f.append(ledger, f.subject_registered(f"C-{i}"), f.consent_granted(f"C-{i}"))
        core.sealer.seal()
    return ledger


def test_an_inclusion_proof_verifies_with_only_the_key(core, history: Ledger) -> None:
    for position in (1, 2, 8, 15):
        proof = prove_inclusion(core.sealer, position)
        assert proof["tree_size"] == 15
        assert check_inclusion(json.loads(json.dumps(proof)), history.verifier_key()) == []


def test_an_inclusion_proof_fails_when_any_byte_changes(core, history: Ledger) -> None:
    key = history.verifier_key()
    proof = prove_inclusion(core.sealer, 8)
    state = bytearray(base64.b64decode(proof["event"]["state"]))
    for i in range(0, len(state), 7):
        state[i] ^= 0x20
        bad = {
            **proof,
            "event": {**proof["event"], "state": base64.b64encode(bytes(state)).decode()},
        }
        assert check_inclusion(bad, key)
        state[i] ^= 0x20
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    path[0] = bytes([path[0][0] ^ 1]) + path[0][1:]
    assert check_inclusion({**proof, "audit_path": [h.hex() for h in path]}, key)
    assert check_inclusion({**proof, "leaf_index": proof["leaf_index"] + 1}, key)
    assert check_inclusion({**proof, "event": {**proof["event"], "position": 9}}, key)
    assert check_inclusion(
        {**proof, "checkpoint": proof["checkpoint"].replace("\n15\n", "\n16\n")}, key
    )


def test_a_proof_does_not_verify_under_another_key(core, history: Ledger) -> None:
    other = verifier_key("consent-ledger.invalid/other", generate_signing_key().public_key())
    assert check_inclusion(prove_inclusion(core.sealer, 3), other)


def test_a_consistency_proof_shows_the_newer_checkpoint_extends_the_older(
    core, history: Ledger
) -> None:
    key = history.verifier_key()
    for old in (3, 7, 11, 15):
        proof = prove_consistency(core.sealer, old)
        assert check_consistency(proof, key) == []
    proof = prove_consistency(core.sealer, 5)
    bad = [bytes.fromhex(h) for h in proof["proof"]]
    bad[-1] = bytes(32)
    assert check_consistency({**proof, "proof": [h.hex() for h in bad]}, key)
    assert check_consistency({**proof, "proof": proof["proof"][:-1]}, key)


def test_proving_an_unsealed_event_seals_it_first(core, history: Ledger) -> None:
    f.append(history, f.subject_registered("C-99"))
    proof = prove_inclusion(core.sealer, 16)
    assert proof["tree_size"] == 16
    assert check_inclusion(proof, history.verifier_key()) == []


def test_an_exported_log_verifies_without_the_database(
    core, history: Ledger, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    written = export_log(core.sealer, folder)
    assert written == {"events": 15, "checkpoints": 8}  # one per call, then the export's
    key = (folder / "verifier-key.txt").read_text(encoding="utf-8").strip()
    report = check_export(folder, key)
    assert (report.events, report.checkpoints, report.problems) == (15, 8, [])
    lines = (folder / "events.ndjson").read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[9])
    event["topic"] = "ConsentWithdrawn"
    lines[9] = json.dumps(event)
    (folder / "events.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_export(folder, key).problems
    assert problems
    assert "positions 10..11" in problems[0]  # checkpoint 9 still matches, 11 does not


def test_an_inclusion_proof_against_an_older_checkpoint_verifies_against_that_checkpoint(
    core, history: Ledger
) -> None:
    key = history.verifier_key()
    proof = prove_inclusion(core.sealer, 4, size=5)
    assert proof["tree_size"] == 5
    assert proof["checkpoint"].splitlines()[1] == "5"
    assert check_inclusion(proof, key) == []
    latest = prove_inclusion(core.sealer, 4)
    assert latest["tree_size"] == 15
    assert latest["audit_path"] != proof["audit_path"]


def test_an_inclusion_proof_names_the_sizes_it_can_be_made_against(core, history: Ledger) -> None:
    with pytest.raises(NotFound, match=r"no checkpoint of size 6; sizes: \[1, 3, 5"):
        prove_inclusion(core.sealer, 4, size=6)
    with pytest.raises(NotFound, match="position 8 is not in the checkpoint of size 7"):
        prove_inclusion(core.sealer, 8, size=7)


def test_a_consistency_proof_between_two_older_checkpoints_verifies(core, history: Ledger) -> None:
    key = history.verifier_key()
    proof = prove_consistency(core.sealer, 3, new_size=9)
    assert proof["new_checkpoint"].splitlines()[1] == "9"
    assert check_consistency(proof, key) == []
    with pytest.raises(NotFound, match="no checkpoint of size 10"):
        prove_consistency(core.sealer, 3, new_size=10)
    with pytest.raises(ConfigurationError, match="size 11 is newer than the one of size 9"):
        prove_consistency(core.sealer, 11, new_size=9)
