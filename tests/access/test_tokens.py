"""Tokens issued, listed, revoked and authenticated, on both stores."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.access.tokens import (
    TOKENS_STREAM,
    TokenNotFound,
    TokenRegistry,
    issue_token,
    list_tokens,
    revoke_token,
    token_digest,
)
from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.clock import FixedClock
from ledger.errors import BatchRejected, InvalidRequest
from ledger.evidence.verification import verify
from tests import factories as f
from tests.rights.test_erasure import store_bytes


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def test_a_token_digest_is_hmac_sha256_of_the_token_under_the_key() -> None:
    expected = hmac.new(b"k" * 32, b"lgr_abc", hashlib.sha256).hexdigest()
    assert token_digest(b"k" * 32, "lgr_abc") == expected
    assert token_digest(b"j" * 32, "lgr_abc") != expected


def test_an_issued_token_has_256_random_bits_and_authenticates(
    ledger: Ledger, clock: FixedClock
) -> None:
    info, token = issue_token(ledger, name="billing", role="service", actor="admin")
    assert token.startswith("lgr_")
    assert len(token) == len("lgr_") + 43  # 32 bytes in URL-safe base64
    assert info.id.startswith("tok_")
    assert (info.name, info.role, info.revoked_at) == ("billing", "service", None)
    principal = TokenRegistry(ledger).authenticate(token, clock.now())
    assert principal is not None
    assert (principal.token_id, principal.name, principal.role) == (info.id, "billing", "service")
    assert (principal.types, principal.sources) == (None, None)


def test_two_tokens_are_never_the_same(ledger: Ledger) -> None:
    issued = [issue_token(ledger, name=f"s{i}", role="service", actor="admin") for i in range(5)]
    assert len({t for _, t in issued}) == len({i.id for i, _ in issued}) == 5


def test_a_wrong_or_malformed_bearer_does_not_authenticate(
    ledger: Ledger, clock: FixedClock
) -> None:
    _, token = issue_token(ledger, name="billing", role="dpo", actor="admin")
    registry = TokenRegistry(ledger)
    for bearer in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", "Bearer " + token,
                   token + "x" * 200, token[4:]):  # fmt: skip
        assert registry.authenticate(bearer, clock.now()) is None


def test_authentication_compares_digests_in_constant_time(
    ledger: Ledger, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = issue_token(ledger, name="billing", role="dpo", actor="admin")
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("ledger.access.tokens.hmac.compare_digest", spy)
    assert TokenRegistry(ledger).authenticate(token, clock.now()) is not None
    digest = token_digest(ledger.index_key, token)
    assert compared == [(digest, digest)]


def test_a_revoked_token_is_refused_within_a_second(ledger: Ledger, clock: FixedClock) -> None:
    info, token = issue_token(ledger, name="billing", role="service", actor="admin")
    ticks = Ticks()
    registry = TokenRegistry(ledger, monotonic=ticks)
    assert registry.authenticate(token, clock.now()) is not None
    revoked = revoke_token(ledger, info.id, actor="admin")
    assert revoked.revoked_at == clock.now()
    ticks.value = 0.5
    assert registry.authenticate(token, clock.now()) is not None  # cached for under a second
    ticks.value = 1.0
    assert registry.authenticate(token, clock.now()) is None
    assert TokenRegistry(ledger).authenticate(token, clock.now()) is None


def test_a_token_issued_after_the_last_refresh_works_within_a_second(
    ledger: Ledger, clock: FixedClock
) -> None:
    ticks = Ticks()
    registry = TokenRegistry(ledger, monotonic=ticks)
    assert registry.authenticate("lgr_" + "x" * 43, clock.now()) is None
    _, token = issue_token(ledger, name="late", role="auditor", actor="admin")
    ticks.value = 0.9
    assert registry.authenticate(token, clock.now()) is None
    ticks.value = 1.9
    principal = registry.authenticate(token, clock.now())
    assert principal is not None
    assert principal.role == "auditor"


def test_an_expired_token_is_refused_at_the_instant_it_expires(
    ledger: Ledger, clock: FixedClock
) -> None:
    expires = clock.now() + timedelta(hours=1)
    _, token = issue_token(ledger, name="temp", role="dpo", expires_at=expires, actor="admin")
    registry = TokenRegistry(ledger)
    assert registry.authenticate(token, expires - timedelta(microseconds=1)) is not None
    assert registry.authenticate(token, expires) is None
    assert registry.authenticate(token, expires + timedelta(days=1)) is None


def test_a_service_tokens_limits_are_kept(ledger: Ledger, clock: FixedClock) -> None:
    _, token = issue_token(
        ledger, name="billing", role="service", types=["DataProcessed", "ConsentGranted"],
        sources=["web_forms"], actor="admin",
    )  # fmt: skip
    principal = TokenRegistry(ledger).authenticate(token, clock.now())
    assert principal is not None
    assert principal.types == frozenset({"DataProcessed", "ConsentGranted"})
    assert principal.sources == frozenset({"web_forms"})
    (listed,) = list_tokens(ledger)
    assert (listed.types, listed.sources) == (["ConsentGranted", "DataProcessed"], ["web_forms"])


def test_the_list_shows_every_token_and_never_a_token_or_digest(ledger: Ledger) -> None:
    first, token = issue_token(ledger, name="a", role="service", actor="admin")
    second, _ = issue_token(ledger, name="b", role="auditor", actor="admin")
    revoke_token(ledger, first.id, actor="admin")
    listed = list_tokens(ledger)
    assert [(t.id, t.name, t.revoked_at is not None) for t in listed] == [
        (first.id, "a", True), (second.id, "b", False),
    ]  # fmt: skip
    dumped = str([t.model_dump() for t in listed])
    assert token not in dumped
    assert token_digest(ledger.index_key, token) not in dumped


def holds(stored: bytes, text: str) -> bool:
    """Whether the store's bytes hold the text, as it is or hex-encoded (a bytea dump)."""
    raw = text.encode()
    return raw in stored or raw.hex().encode() in stored


def test_the_plain_token_is_never_stored(core: Core, store_url: str) -> None:
    ledger = core.ledger
    _, token = issue_token(ledger, name="billing", role="dpo", actor="admin")
    stored = store_bytes(store_url)
    assert holds(stored, token_digest(ledger.index_key, token))  # the dump holds the log
    assert not holds(stored, token)
    assert not holds(stored, token[4:])


def test_token_events_are_in_the_log_and_verify(core: Core) -> None:
    info, _ = issue_token(core.ledger, name="billing", role="dpo", actor="admin")
    revoke_token(core.ledger, info.id, actor="admin")
    events = core.ledger.ledger_recorder.select_events(TOKENS_STREAM)
    assert [(e.topic, e.originator_version) for e in events] == [
        ("TokenIssued", 1), ("TokenRevoked", 2),
    ]  # fmt: skip
    assert verify(core.sealer).ok


def test_revoking_twice_writes_once_and_an_unknown_id_is_not_found(ledger: Ledger) -> None:
    info, _ = issue_token(ledger, name="billing", role="dpo", actor="admin")
    assert revoke_token(ledger, info.id, actor="admin") == revoke_token(
        ledger, info.id, actor="admin"
    )
    assert len(ledger.ledger_recorder.select_events(TOKENS_STREAM)) == 2
    with pytest.raises(TokenNotFound, match="no token has the id 'tok_0000000000000000'"):
        revoke_token(ledger, "tok_0000000000000000", actor="admin")
    with pytest.raises(TokenNotFound, match=r"\(not a token id\)"):
        revoke_token(ledger, "131052-308T", actor="admin")


REFUSALS = [
    ({"role": "boss"}, "role", "invalid_value"),
    ({"types": ["NoticePublished"]}, "types", "not_appendable"),
    ({"types": ["TokenIssued"]}, "types", "not_appendable"),
    ({"types": ["NoSuchThing"]}, "types", "not_appendable"),
    ({"types": []}, "types", "invalid_value"),
    ({"sources": ["nowhere"]}, "sources", "unknown_source"),
    ({"role": "dpo", "types": ["ConsentGranted"]}, "types", "restriction_not_for_role"),
    ({"role": "auditor", "sources": ["web_forms"]}, "sources", "restriction_not_for_role"),
    ({"name": ""}, "name", "invalid_value"),
    ({"name": "a\nb"}, "name", "invalid_character"),
    ({"expires_at": datetime(2024, 3, 1, 12, 0, tzinfo=UTC)}, "expires_at", "expiry_in_past"),
    ({"expires_at": datetime(2024, 3, 1, 12, 0)}, "expires_at", "invalid_timestamp"),  # noqa: DTZ001
]


@pytest.mark.parametrize(("change", "field", "rule"), REFUSALS)
def test_a_bad_token_request_is_refused_naming_field_and_rule(
    ledger: Ledger, change: dict[str, Any], field: str, rule: str
) -> None:
    request: dict[str, Any] = {"name": "billing", "role": "service", "actor": "admin"} | change
    with pytest.raises(InvalidRequest) as refused:
        issue_token(ledger, **request)
    assert (refused.value.field, str(refused.value.rule)) == (field, rule)
    assert list_tokens(ledger) == []


@pytest.mark.parametrize("kind", ["TokenIssued", "TokenRevoked", "PersonalDataAccessed"])
def test_a_line_of_a_ledger_written_access_type_is_refused(ledger: Ledger, kind: str) -> None:
    data = {"token_id": "tok_0123456789abcdef"}
    with pytest.raises(BatchRejected) as refused:
        f.append(ledger, f.subject_registered("C-1"), f.line(kind, "C-1", data))
    assert [(v.type, v.rule) for v in refused.value.violations] == [(kind, "not_appendable")]
    assert ledger.ledger_recorder.select_subjects(["C-1"]) == {}
