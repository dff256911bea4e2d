"""Access tokens: issued, listed and revoked as events; checked in constant time.

A token is ``lgr_`` and 32 random bytes (URL-safe base64: 256 bits). The ledger
records a ``TokenIssued`` event in the tokens stream holding the token's keyed
digest (HMAC-SHA256 under the ledger's index key, so a copy of the log alone does
not let anyone test guesses) and never the token itself; ``TokenRevoked`` ends it.
``TokenRegistry`` keeps the tokens in memory for a service and reads new token
events at most once a second (and at least once a second while requests come), so
a revocation takes effect within a second.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import IntegrityError
from pydantic import BaseModel

from ledger.access.roles import ACTIONS, ROLES, Principal, line_refusal, may
from ledger.appending.batch import shown_type
from ledger.domain.rules import shown_name
from ledger.errors import InvalidRequest, NotFound, Rule, WriteConflict
from schemas import events as ev
from schemas.answers import TokenInfo
from schemas.base import in_window, invalid_character

if TYPE_CHECKING:
    from ledger.appending.application import Ledger

__all__ = [
    "ACTIONS",
    "ROLES",
    "TOKENS_STREAM",
    "Principal",
    "TokenNotFound",
    "TokenRegistry",
    "issue_token",
    "line_refusal",
    "list_tokens",
    "may",
    "revoke_token",
    "token_digest",
]

TOKENS_STREAM = uuid5(NAMESPACE_URL, "urn:ledger:stream:tokens")
"""The stream of ``TokenIssued`` and ``TokenRevoked`` events."""

TOKEN_PREFIX = "lgr_"  # noqa: S105 - the public prefix, not a secret
_TOKEN_ID = re.compile(r"tok_[0-9a-f]{16}")
_MAX_TOKEN = 100
"""A longer bearer value is no token of ours: refused before any work."""
_RETRIES = 8
EXPIRY_IN_PAST = "expiry_in_past"
"""The rule of a token whose expiry is not in the future."""
RESTRICTION_NOT_FOR_ROLE = "restriction_not_for_role"
"""The rule of types or sources given for a token that is not a service's."""


class TokenNotFound(NotFound):
    """No token was issued with this id."""


def token_digest(key: bytes, token: str) -> str:
    """The keyed digest the ledger keeps of a token (hex HMAC-SHA256)."""
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(slots=True)
class _Tokens:
    """The tokens stream folded: every token and its digest, by id."""

    info: dict[str, TokenInfo]
    digests: dict[str, str]
    version: int = 0

    def take(self, event: ev.LedgerEvent) -> None:
        """Apply one event of the tokens stream."""
        self.version = event.originator_version
        if isinstance(event, ev.TokenIssued):
            d = event.data
            self.info[d.token_id] = TokenInfo(
                id=d.token_id, name=d.name, role=d.role,
                types=None if d.types is None else list(d.types),
                sources=None if d.sources is None else list(d.sources),
                expires_at=d.expires_at, created_at=event.occurred_at, revoked_at=None,
            )  # fmt: skip
            self.digests[d.token_id] = d.digest
        elif isinstance(event, ev.TokenRevoked):
            token_id = event.data.token_id
            found = self.info.get(token_id)
            if found is not None and found.revoked_at is None:
                self.info[token_id] = found.model_copy(update={"revoked_at": event.occurred_at})


def _read(ledger: Ledger, into: _Tokens | None = None) -> _Tokens:
    """The tokens stream, from where ``into`` stopped (or from the start)."""
    tokens = into or _Tokens({}, {})
    for row in ledger.ledger_recorder.select_events(TOKENS_STREAM, gt=tokens.version):
        tokens.take(ledger.mapper.to_domain_event(row))
    return tokens


def list_tokens(ledger: Ledger) -> list[TokenInfo]:
    """Every token ever issued, oldest first (never a token or its digest)."""
    return list(_read(ledger).info.values())


def _record(ledger: Ledger, topic: str, data: BaseModel, actor: str) -> int:
    """Append one event to the tokens stream, retrying when another writer came first."""
    for attempt in range(_RETRIES):
        try:
            return ledger.record(
                TOKENS_STREAM, topic, data, occurred_at=ledger.clock.now(), actor=actor
            )
        except IntegrityError:
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter
    msg = "other writers kept changing the tokens at the same time; nothing was written: retry"
    raise WriteConflict(msg)


def _refuse(message: str, rule: str, field: str) -> InvalidRequest:
    return InvalidRequest(message, rule=rule, field=field)


def _check_name(name: str) -> None:
    if invalid_character(name, free_text=False):
        msg = "the name holds a control character, DEL or an unpaired surrogate (not shown)"
        raise _refuse(msg, Rule.INVALID_CHARACTER, "name")
    if not name.strip() or name != name.strip() or len(name) > 200:  # noqa: PLR2004
        msg = "the name must be 1 to 200 characters, not starting or ending with a space"
        raise _refuse(msg, Rule.INVALID_VALUE, "name")


def _check_limits(
    ledger: Ledger, role: str, types: Sequence[str] | None, sources: Sequence[str] | None
) -> None:
    """The role exists; types are appendable types, sources the register's; service only."""
    if role not in ROLES:
        msg = f"unknown role {shown_name(role)}: the roles are {', '.join(ROLES)}"
        raise _refuse(msg, Rule.INVALID_VALUE, "role")
    if role != "service" and (types is not None or sources is not None):
        msg = f"only a service token is limited to types and sources, not a {role} token"
        raise _refuse(msg, RESTRICTION_NOT_FOR_ROLE, "types" if types is not None else "sources")
    if types is not None and not types:
        raise _refuse("name at least one event type, or none for any", Rule.INVALID_VALUE, "types")
    if sources is not None and not sources:
        msg = "name at least one source, or none for any"
        raise _refuse(msg, Rule.INVALID_VALUE, "sources")
    for kind in sorted(set(types or ())):
        if kind not in ev.APPENDABLE_TYPES:
            shown = shown_type(kind) or "(not shown)"
            msg = f"{shown} is not an event type services append"
            raise _refuse(msg, Rule.NOT_APPENDABLE, "types")
    known = {s for n in ledger.notices.versions for s in n.index.sources}
    for source in sorted(set(sources or ())):
        if source not in known:
            msg = f"unknown source {shown_name(source)}: no published notice version defines it"
            raise _refuse(msg, Rule.UNKNOWN_SOURCE, "sources")


def _check_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None or not in_window(expires_at):
        msg = "the expiry must be an instant with a UTC offset, before 9000-01-01"
        raise _refuse(msg, Rule.INVALID_TIMESTAMP, "expires_at")
    if expires_at <= now:
        msg = f"the expiry {expires_at.isoformat()} is not in the future (now {now.isoformat()})"
        raise _refuse(msg, EXPIRY_IN_PAST, "expires_at")


def issue_token(
    ledger: Ledger,
    *,
    name: str,
    role: str,
    types: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    actor: str,
) -> tuple[TokenInfo, str]:
    """Issue a token; returns what ``list_tokens`` shows of it and the plain token.

    The plain token is returned this once: the ledger records only its digest.

    Raises:
        InvalidRequest: naming the field (``name``, ``role``, ``types``, ``sources``,
            ``expires_at``) and the rule it breaks.
    """
    type_list = None if types is None else list(types)
    source_list = None if sources is None else list(sources)
    _check_name(name)
    _check_limits(ledger, role, type_list, source_list)
    _check_expiry(expires_at, ledger.clock.now())
    known = _read(ledger).info
    token_id = f"tok_{secrets.token_hex(8)}"
    while token_id in known:
        token_id = f"tok_{secrets.token_hex(8)}"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    data = ev.TokenIssuedData(
        token_id=token_id, name=name, role=cast("ev.Role", role),
        types=None if type_list is None else tuple(sorted(set(type_list))),
        sources=None if source_list is None else tuple(sorted(set(source_list))),
        expires_at=expires_at, digest=token_digest(ledger.index_key, token),
    )  # fmt: skip
    _record(ledger, "TokenIssued", data, actor)
    return _read(ledger).info[token_id], token


def revoke_token(ledger: Ledger, token_id: str, *, actor: str) -> TokenInfo:
    """Revoke a token; revoking a revoked token changes nothing and answers the same.

    Raises:
        TokenNotFound: no token has this id.
    """
    found = _read(ledger).info.get(token_id)
    if found is None:
        shown = repr(token_id) if _TOKEN_ID.fullmatch(token_id) else "(not a token id)"
        msg = f"no token has the id {shown}; `ledger token list` shows them"
        raise TokenNotFound(msg)
    if found.revoked_at is not None:
        return found
    _record(ledger, "TokenRevoked", ev.TokenRevokedData(token_id=token_id), actor)
    return _read(ledger).info[token_id]


class TokenRegistry:
    """The tokens a service accepts, kept in memory and refreshed from the tokens stream.

    Thread-safe: one lock guards the refresh and the look-up.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        refresh_every: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self._every = refresh_every
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._tokens = _Tokens({}, {})
        self._by_digest: dict[str, Principal] = {}
        self._refreshed: float | None = None
        self._key: bytes | None = None

    @property
    def fresh(self) -> bool:
        """Whether ``authenticate`` would answer from memory, without reading the store."""
        refreshed = self._refreshed
        return refreshed is not None and self._monotonic() - refreshed < self._every

    def authenticate(self, bearer: str, now: datetime, *, refresh: bool = True) -> Principal | None:
        """The principal of a valid token; None when unknown, revoked or expired at ``now``.

        ``refresh=False`` answers from memory only (no store read: safe beside a writer).
        """
        if not bearer.startswith(TOKEN_PREFIX) or len(bearer) > _MAX_TOKEN:
            return None
        with self._lock:
            if self._key is None:
                if not refresh:
                    return None
                self._key = self._ledger.index_key
            digest = token_digest(self._key, bearer)
            moment = self._monotonic()
            if refresh and (self._refreshed is None or moment - self._refreshed >= self._every):
                self._refresh()
                self._refreshed = moment
            principal = self._by_digest.get(digest)
            stored = None if principal is None else self._tokens.digests[principal.token_id]
        if principal is None or stored is None or not hmac.compare_digest(stored, digest):
            return None
        if principal.expires_at is not None and principal.expires_at <= now:
            return None
        return principal

    def _refresh(self) -> None:
        """Read the token events since the last look (one probe when nothing changed)."""
        recorder = self._ledger.ledger_recorder
        head = recorder.select_stream_versions([TOKENS_STREAM]).get(TOKENS_STREAM, 0)
        if head <= self._tokens.version:
            return
        _read(self._ledger, self._tokens)
        self._by_digest = {
            self._tokens.digests[i.id]: _principal(i)
            for i in self._tokens.info.values()
            if i.revoked_at is None
        }


def _principal(info: TokenInfo) -> Principal:
    return Principal(
        token_id=info.id, name=info.name, role=info.role,
        types=None if info.types is None else frozenset(info.types),
        sources=None if info.sources is None else frozenset(info.sources),
        expires_at=info.expires_at,
    )  # fmt: skip
