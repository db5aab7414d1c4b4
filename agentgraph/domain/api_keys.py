"""Service API keys: machine credentials scoped to one tenant and one role.

Only the key's SHA-256 hash and its first characters (`prefix`, shown in listings so
an operator can tell keys apart) are stored; the key itself is shown once, by the
caller that made it (`agentgraph.operators`). A key's role is `tenant_admin`,
`agent` or `viewer` (never `super_admin`), and its tenant must exist. Revoking is
permanent and idempotent. `last_used_at` is written at most once a minute per key,
so a busy machine client does not turn every request into a write.

As with operators, every call an operator can cause takes `scope` (a tenant slug,
or None for a super admin), and a key outside the scope is `ApiKeyNotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentgraph.clock import Clock
from agentgraph.domain.db import ConstraintViolation, Database, Row
from agentgraph.domain.errors import DomainError, TenantNotFound
from agentgraph.domain.operators import InvalidRole
from agentgraph.domain.timestamps import as_datetime, as_optional_datetime

__all__ = ["KEY_ROLES", "ApiKey", "ApiKeyNotFound", "ApiKeys"]

KEY_ROLES = ("tenant_admin", "agent", "viewer")
LAST_USED_RESOLUTION = timedelta(minutes=1)
_COLUMNS = "id, tenant, role, name, prefix, created_by, created_at, last_used_at, revoked_at"


class ApiKeyNotFound(DomainError):
    """No API key with this id in the caller's scope."""

    code = "api_key_not_found"

    def __init__(self) -> None:
        super().__init__("No such API key.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """An API key as stored (never the key or its hash). `created_by` is `operator:<id>`
    or `key:<id>`, whoever created it."""

    id: int
    tenant: str
    role: str
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _key(row: Row) -> ApiKey:
    return ApiKey(
        id=int(row["id"]),
        tenant=row["tenant"],
        role=row["role"],
        name=row["name"],
        prefix=row["prefix"],
        created_by=row["created_by"],
        created_at=as_datetime(row["created_at"]),
        last_used_at=as_optional_datetime(row["last_used_at"]),
        revoked_at=as_optional_datetime(row["revoked_at"]),
    )


class ApiKeys:
    """`domain.api_keys`: hashed service keys."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self, *, tenant: str, role: str, name: str, prefix: str, key_hash: str, created_by: str
    ) -> ApiKey:
        """Store a new key. `InvalidRole` for a role keys may not have, `TenantNotFound`."""
        if role not in KEY_ROLES:
            raise InvalidRole(f"An API key's role is one of {', '.join(KEY_ROLES)}.")
        try:
            row = await self._db.fetchone(
                "INSERT INTO api_keys (tenant, role, name, prefix, key_hash, created_by, "
                f"created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                [tenant, role, name, prefix, key_hash, created_by, self._clock.now()],
            )
        except ConstraintViolation as exc:
            if exc.kind == "foreign_key":
                raise TenantNotFound(tenant) from None
            raise
        assert row is not None
        return _key(row)

    async def get(self, key_id: int, *, scope: str | None) -> ApiKey:
        """The key `key_id` within `scope`; `ApiKeyNotFound` otherwise."""
        sql = f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?"
        params: list[Any] = [key_id]
        if scope is not None:
            sql, params = sql + " AND tenant = ?", [*params, scope]
        row = await self._db.fetchone(sql, params)
        if row is None:
            raise ApiKeyNotFound()
        return _key(row)

    async def page(self, *, scope: str | None, limit: int = 50, offset: int = 0) -> list[ApiKey]:
        """Keys within `scope` (revoked ones included), by id."""
        sql = f"SELECT {_COLUMNS} FROM api_keys"
        params: list[Any] = []
        if scope is not None:
            sql, params = sql + " WHERE tenant = ?", [scope]
        rows = await self._db.fetchall(
            sql + " ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [_key(r) for r in rows]

    async def revoke(self, key_id: int, *, scope: str | None) -> ApiKey:
        """Revoke the key (a revoked key stays revoked); `ApiKeyNotFound` outside `scope`."""
        await self.get(key_id, scope=scope)
        await self._db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [self._clock.now(), key_id],
        )
        return await self.get(key_id, scope=scope)

    async def live(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash, its last-used time brought up to date."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            [key_hash],
        )
        if row is None:
            return None
        key = _key(row)
        now = self._clock.now()
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            await self._db.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now, key.id]
            )
        return key
