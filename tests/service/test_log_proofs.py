"""Proofs over HTTP against the latest checkpoint or one the auditor already holds."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from ledger.integrity.verifier import check_consistency, check_inclusion
from tests import factories as f
from tests.service.conftest import Tokens, bearer


def _sealed_history(core: Core) -> list[int]:
    """Three calls, each sealed: the sizes of the signed checkpoints."""
    for i in range(3):
        f.append(core.ledger, f.subject_registered(f"C-{i}"), f.consent_granted(f"C-{i}"))
        core.seal()
    return sorted(c.size for c in core.sealer.checkpoints())


def test_an_auditor_gets_proofs_against_a_checkpoint_it_holds(
    core: Core, client: TestClient, tokens: Tokens
) -> None:
    old, held, last = _sealed_history(core)[-3:]
    key = core.ledger.verifier_key()
    auditor = bearer(tokens.auditor)
    inclusion = client.get(f"/v1/log/proof/inclusion?position=2&size={held}", headers=auditor)
    assert inclusion.status_code == 200, inclusion.text
    assert inclusion.json()["tree_size"] == held
    assert check_inclusion(inclusion.json(), key) == []
    consistency = client.get(f"/v1/log/proof/consistency?old={old}&new={held}", headers=auditor)
    assert consistency.status_code == 200, consistency.text
    assert consistency.json()["new_checkpoint"].splitlines()[1] == str(held)
    assert check_consistency(consistency.json(), key) == []
    latest = client.get("/v1/log/proof/inclusion?position=2", headers=auditor).json()
    assert latest["tree_size"] >= last


def test_a_proof_against_a_size_never_signed_is_404_naming_the_sizes(
    core: Core, client: TestClient, tokens: Tokens
) -> None:
    old, held, _ = _sealed_history(core)[-3:]
    auditor = bearer(tokens.auditor)
    never = held - 1  # sealed calls append two events each
    missing = client.get(f"/v1/log/proof/inclusion?position=2&size={never}", headers=auditor)
    assert missing.status_code == 404
    assert f"no checkpoint of size {never}; sizes: [" in missing.json()["detail"]
    later = held + 1
    outside = client.get(f"/v1/log/proof/inclusion?position={later}&size={held}", headers=auditor)
    assert outside.status_code == 404
    assert outside.json()["detail"] == f"position {later} is not in the checkpoint of size {held}"
    backwards = client.get(f"/v1/log/proof/consistency?old={held}&new={old}", headers=auditor)
    assert backwards.status_code == 400
    assert backwards.headers["content-type"] == "application/problem+json"
