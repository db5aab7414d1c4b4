"""Operator JWTs (PyJWT, HS256): access tokens for 30 minutes, refresh tokens for a day.

`TokenCodec(secret, clock)` signs and checks both kinds. Claims: `sub` (operator
id), `sid` (the login session, i.e. the refresh-token family), `typ` (`access` or
`refresh`), `jti` (unique per token), `iat`, `exp`, and `iss` = `agentgraph`.
Expiry is checked against the injected `Clock`, not the system time, so a test
moves a `ManualClock` past 30 minutes instead of sleeping. Any failure (bad
signature, wrong kind, expired, malformed) is `InvalidToken`; callers answer 401.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import jwt

from agentgraph.clock import Clock

__all__ = [
    "ACCESS_TTL",
    "REFRESH_TTL",
    "InvalidToken",
    "TokenClaims",
    "TokenCodec",
    "token_hash",
]

ACCESS_TTL = timedelta(minutes=30)
REFRESH_TTL = timedelta(days=1)
ISSUER = "agentgraph"
ALGORITHM = "HS256"
TokenKind = Literal["access", "refresh"]


class InvalidToken(Exception):
    """A token that is not a valid, unexpired agentgraph token of the expected kind."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: the operator, the session and the token's own id."""

    operator_id: int
    session: str
    jti: str
    expires_at: float


def token_hash(value: str) -> str:
    """SHA-256 hex of a high-entropy secret (refresh-token ids, API keys)."""
    return hashlib.sha256(value.encode()).hexdigest()


class TokenCodec:
    """Signs and verifies operator tokens with one HMAC secret."""

    def __init__(
        self,
        secret: str,
        clock: Clock,
        *,
        access_ttl: timedelta = ACCESS_TTL,
        refresh_ttl: timedelta = REFRESH_TTL,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret needs at least 32 characters")
        self._secret = secret
        self._clock = clock
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def issue(self, kind: TokenKind, operator_id: int, session: str) -> tuple[str, TokenClaims]:
        """A signed token of `kind` for the operator's session, and its claims."""
        now = int(self._clock.time())
        ttl = self.access_ttl if kind == "access" else self.refresh_ttl
        claims = TokenClaims(
            operator_id, session, secrets.token_urlsafe(16), now + ttl.total_seconds()
        )
        payload = {
            "iss": ISSUER,
            "sub": str(operator_id),
            "sid": session,
            "typ": kind,
            "jti": claims.jti,
            "iat": now,
            "exp": int(claims.expires_at),
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims

    def verify(self, token: str, kind: TokenKind) -> TokenClaims:
        """The claims of a valid, unexpired token of `kind`; `InvalidToken` otherwise."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is judged by the injected clock below, not by the system time.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require": ["exp", "iat", "sub", "sid", "typ", "jti"],
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        if payload.get("typ") != kind:
            raise InvalidToken(f"not an {kind} token")
        exp = payload["exp"]
        if not isinstance(exp, int | float) or exp <= self._clock.time():
            raise InvalidToken("token expired")
        try:
            operator_id = int(payload["sub"])
        except (TypeError, ValueError):
            raise InvalidToken("malformed subject") from None
        if not isinstance(payload["sid"], str) or not isinstance(payload["jti"], str):
            raise InvalidToken("malformed session")
        return TokenClaims(operator_id, payload["sid"], payload["jti"], float(exp))
