"""Signing operators in and out, and resolving any operator credential to a `Principal`.

`OperatorAuth.login(email, password, ip)` checks the failed-login limits first
(`TooManyAttempts` with the seconds to wait), then the password; a wrong password,
an unknown email and a deactivated account are all `AuthError`. A login opens a
session (refresh-token family) and answers a `TokenPair`: an access token for 30
minutes and a refresh token for a day. `refresh(token)` rotates: the token works
once and is replaced by a new pair; presenting a used one revokes the session, so
whoever holds a stolen copy and its rightful owner are both signed out. `logout`
revokes the caller's session. `authenticate(credential)` accepts an access token or
an `ak_` API key and answers who is calling; an access token only works while its
session is live and its operator active, so logout, reuse, deactivation and a
password reset take effect at once.

`open_operator_auth(settings, domain)` builds the service for a process: the JWT
key is `AGENTGRAPH_JWT_SECRET`, or (outside production) a random key made once and
kept in the database, so every process on one database shares it and tokens
survive restarts; failed logins are counted in Redis when `REDIS_URL` is set.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import ConfigError, Settings
from agentgraph.domain import Domain
from agentgraph.domain.operators import Rotation
from agentgraph.operators.login_limits import LoginLimiter, MemoryLoginLimiter, RedisLoginLimiter
from agentgraph.operators.passwords import burn_verification, verify_password
from agentgraph.operators.principal import Principal
from agentgraph.operators.tokens import InvalidToken, TokenCodec, token_hash

__all__ = [
    "API_KEY_PREFIX",
    "AuthError",
    "OperatorAuth",
    "TokenPair",
    "TooManyAttempts",
    "open_operator_auth",
    "resolve_jwt_secret",
]

log = logging.getLogger(__name__)

API_KEY_PREFIX = "ak_"
JWT_KEY_NAME = "operator_jwt_secret"


class AuthError(Exception):
    """The credential does not identify an active operator or a live key (HTTP 401)."""


class TooManyAttempts(Exception):
    """Too many failed logins for this account or address; try again in `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a login or a refresh answers; `expires_in` is the access token's seconds."""

    access_token: str
    refresh_token: str
    expires_in: int


class OperatorAuth:
    """Logins, refreshes, logouts and credential checks on one domain (module docstring)."""

    def __init__(
        self, domain: Domain, codec: TokenCodec, limiter: LoginLimiter, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.domain = domain
        self.codec = codec
        self.limiter = limiter
        self.clock = clock

    async def login(self, email: str, password: str, ip: str) -> TokenPair:
        """A new session's tokens; `TooManyAttempts` or `AuthError` otherwise."""
        account = email.strip().lower()
        retry_after = await self.limiter.blocked(account, ip)
        if retry_after is not None:
            raise TooManyAttempts(retry_after)
        found = await self.domain.operators.credentials(email)
        if found is None:
            await burn_verification(password)
            await self.limiter.failed(account, ip)
            raise AuthError("wrong email or password")
        operator, encoded = found
        if not await verify_password(encoded, password):
            await self.limiter.failed(account, ip)
            raise AuthError("wrong email or password")
        if not operator.active:
            raise AuthError("this operator account is deactivated")
        await self.limiter.succeeded(account)
        await self.domain.operators.record_login(operator.id)
        session = secrets.token_urlsafe(18)
        refresh, claims = self.codec.issue("refresh", operator.id, session)
        await self.domain.operators.open_session(
            operator.id, session, token_hash(claims.jti), self._at(claims.expires_at)
        )
        return self._pair(operator.id, session, refresh)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair (once); `AuthError` when it is invalid,
        expired, revoked or already used (which revokes its session)."""
        try:
            claims = self.codec.verify(refresh_token, "refresh")
        except InvalidToken as exc:
            raise AuthError(f"invalid refresh token: {exc}") from None
        fresh, new_claims = self.codec.issue("refresh", claims.operator_id, claims.session)
        outcome = await self.domain.operators.rotate(
            claims.session,
            token_hash(claims.jti),
            token_hash(new_claims.jti),
            self._at(new_claims.expires_at),
        )
        if outcome is Rotation.REUSED:
            log.warning("refresh token reused: session of operator %s revoked", claims.operator_id)
            raise AuthError("refresh token already used; the session is revoked, log in again")
        if outcome is not Rotation.ROTATED:
            raise AuthError(f"session {outcome.value}; log in again")
        if await self.domain.operators.in_session(claims.operator_id, claims.session) is None:
            raise AuthError("this operator account is deactivated")
        return self._pair(claims.operator_id, claims.session, fresh)

    async def logout(self, principal: Principal) -> None:
        """End the caller's session (its refresh and access tokens stop working)."""
        if principal.session is not None:
            await self.domain.operators.revoke_session(principal.session, "logout")

    async def authenticate(self, credential: str) -> Principal:
        """Who presents `credential` (an access token or an API key); `AuthError` if nobody."""
        if credential.startswith(API_KEY_PREFIX):
            key = await self.domain.api_keys.live(token_hash(credential))
            if key is None:
                raise AuthError("unknown or revoked API key")
            return Principal(
                kind="api_key",
                id=key.id,
                role=key.role,  # type: ignore[arg-type]  # checked by the table
                tenant=key.tenant,
                name=key.name,
            )
        try:
            claims = self.codec.verify(credential, "access")
        except InvalidToken as exc:
            raise AuthError(f"invalid access token: {exc}") from None
        operator = await self.domain.operators.in_session(claims.operator_id, claims.session)
        if operator is None:
            raise AuthError("session ended or operator deactivated; log in again")
        return Principal(
            kind="operator",
            id=operator.id,
            role=operator.role,  # type: ignore[arg-type]  # checked by the table
            tenant=operator.tenant,
            email=operator.email,
            session=claims.session,
        )

    def _pair(self, operator_id: int, session: str, refresh: str) -> TokenPair:
        access, _ = self.codec.issue("access", operator_id, session)
        return TokenPair(access, refresh, int(self.codec.access_ttl.total_seconds()))

    @staticmethod
    def _at(epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, UTC)


async def resolve_jwt_secret(settings: Settings, domain: Domain) -> str:
    """`AGENTGRAPH_JWT_SECRET`, or outside production the key kept in the database
    (made on first use, with a warning); `ConfigError` in production without one."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.production:
        raise ConfigError(
            "AGENTGRAPH_JWT_SECRET: required in production mode (AGENTGRAPH_PRODUCTION)"
        )
    log.warning(
        "AGENTGRAPH_JWT_SECRET is unset: operator tokens are signed with a key kept in the "
        "database. Set it before the server is reachable from the internet (production "
        "mode refuses to start without it)."
    )
    return await domain.app_keys.get_or_create(JWT_KEY_NAME)


@asynccontextmanager
async def open_operator_auth(
    settings: Settings, domain: Domain, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[OperatorAuth]:
    """The process's `OperatorAuth` (module docstring), its Redis client closed on exit."""
    codec = TokenCodec(await resolve_jwt_secret(settings, domain), clock)
    limits = {
        "window_seconds": settings.login_window_seconds,
        "per_account": settings.login_max_failures,
        "per_ip": settings.login_max_failures_per_ip,
    }
    if settings.redis_url is None:
        yield OperatorAuth(domain, codec, MemoryLoginLimiter(clock, **limits), clock)
        return
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url)
    try:
        limiter = RedisLoginLimiter(client, clock, prefix=settings.redis_prefix, **limits)
        yield OperatorAuth(domain, codec, limiter, clock)
    finally:
        await client.aclose()
