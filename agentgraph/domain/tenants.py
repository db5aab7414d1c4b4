"""The businesses this deployment serves: slug, display name, creation time.

`tenants.get(slug)` answers the tenant or raises `TenantNotFound`; the assistant
greets customers with `Tenant.name` (resolved per turn through `TenantNames`, which
keeps names for a minute so a turn costs no query). `tenants.add(slug, name)` is
idempotent: an existing tenant keeps its name unless `rename=True`.
"""

from __future__ import annotations

import time

from agentgraph.clock import Clock
from agentgraph.domain.db import Database, Row
from agentgraph.domain.errors import TenantNotFound
from agentgraph.domain.models import Tenant
from agentgraph.domain.profiles import check_tenant
from agentgraph.domain.timestamps import as_datetime


def _tenant(row: Row) -> Tenant:
    return Tenant(slug=row["slug"], name=row["name"], created_at=as_datetime(row["created_at"]))


class Tenants:
    """`domain.tenants`: the tenant table."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, slug: str) -> Tenant:
        """The tenant `slug`; `TenantNotFound` when there is none."""
        row = await self._db.fetchone(
            "SELECT slug, name, created_at FROM tenants WHERE slug = ?", [slug]
        )
        if row is None:
            raise TenantNotFound(slug)
        return _tenant(row)

    async def all(self) -> list[Tenant]:
        """Every tenant, by slug."""
        rows = await self._db.fetchall("SELECT slug, name, created_at FROM tenants ORDER BY slug")
        return [_tenant(r) for r in rows]

    async def add(self, slug: str, name: str, *, rename: bool = False) -> tuple[Tenant, bool]:
        """Create the tenant (or rename it when `rename`); returns it and whether it was new."""
        check_tenant(slug)
        name = name.strip()
        if not name:
            raise ValueError("a tenant needs a display name")
        row = await self._db.fetchone(
            "INSERT INTO tenants (slug, name, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (slug) DO NOTHING RETURNING slug",
            [slug, name, self._clock.now()],
        )
        if row is None and rename:
            await self._db.execute("UPDATE tenants SET name = ? WHERE slug = ?", [name, slug])
        return await self.get(slug), row is not None


class TenantNames:
    """Display names of tenants, read from the database at most once a minute each.

    The agent node asks for the name on every turn; a rename shows within
    `ttl_seconds`. An unknown tenant is answered with its slug (the turn still runs;
    the CLI and channels refuse unknown tenants before a turn starts)."""

    def __init__(self, tenants: Tenants, ttl_seconds: float = 60.0) -> None:
        self._tenants = tenants
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def _lookup(self, slug: str) -> str | None:
        now = time.monotonic()
        hit = self._cache.get(slug)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            name: str | None = (await self._tenants.get(slug)).name
        except TenantNotFound:
            name = None
        self._cache[slug] = (now, name)
        return name

    async def name(self, slug: str) -> str:
        """The display name of `slug` (the slug itself for an unknown tenant)."""
        return await self._lookup(slug) or slug
