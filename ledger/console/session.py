"""Signing in with a token: a cookie holding it, checked on every page like a bearer token.

The sign-in form takes an access token; the console keeps it in an HttpOnly,
SameSite=Strict cookie scoped to ``/ui`` and checks it on every page with the
service's own token check (``Authenticator.check``: one ``TokenRegistry``, so a
revoked or expired token signs the reader out within a second, as on the API),
judging the role with ``may`` like the service. A service token is refused: the
console is for people. Every form that changes anything carries a CSRF field, the
HMAC of the session's token under a key made when the console was mounted,
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request

from ledger.access.roles import Principal, may
from ledger.console.web import AuthLike, Refused, SignInNeeded

COOKIE = "ledger_console"
CONSOLE_ROLES = frozenset({"dpo", "auditor"})
SERVICE_REFUSED = "a service token may not use the console: sign in with a dpo or auditor token"
MAX_TOKEN = 100


@dataclass(frozen=True, slots=True)
class Signed:
    """The signed-in reader of one request: its principal and the CSRF value of its forms."""

    principal: Principal
    csrf: str

    def may(self, action: str) -> bool:
        """Whether the reader's role may do ``action``."""
        return may(self.principal, action)


class Sessions:
    """Authenticates console requests by their cookie."""

    def __init__(self, auth: AuthLike, secret: bytes | None = None) -> None:
        self._auth = auth
        self._secret = secret or secrets.token_bytes(32)

    def csrf(self, token: str) -> str:
        """The CSRF value of a session (HMAC-SHA256 of its token)."""
        return hmac.new(self._secret, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a token, or None when it is unknown, revoked or expired."""
        if not token or len(token) > MAX_TOKEN:
            return None
        return self._auth.check(token)

    def signed(self, request: Request) -> Signed | None:
        """The request's reader, when its cookie holds a valid token of a console role.

        Raises:
            Refused: 403 for a service token.
        """
        token = request.cookies.get(COOKIE, "")
        principal = self.authenticate(token)
        if principal is None:
            return None
        if principal.role not in CONSOLE_ROLES:
            raise Refused(403, SERVICE_REFUSED)
        signed = Signed(principal, self.csrf(token))
        request.state.console = signed
        return signed

    def require(self, request: Request, action: str) -> Signed:
        """The reader, when signed in and allowed ``action``.

        Raises:
            SignInNeeded: no valid session.
            Refused: 403 when the role may not do ``action``.
        """
        signed = self.signed(request)
        if signed is None:
            raise SignInNeeded
        if not signed.may(action):
            msg = f"the role {signed.principal.role} may not do {action}"
            raise Refused(403, msg)
        return signed

    def check_csrf(self, signed: Signed, sent: str) -> None:
        """Refuse a changing form whose CSRF field is not the session's (403)."""
        if not hmac.compare_digest(signed.csrf.encode(), sent.encode("utf-8", "replace")):
            msg = "the form's csrf field does not match this session: reload the page and retry"
            raise Refused(403, msg)
