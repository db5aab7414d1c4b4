"""Per-tenant feature flags with code-defined defaults.

`is_enabled(tenant, name)` returns the tenant's stored value, else the default in
`DEFAULT_FLAGS` (`ai_agents_enabled` is on by default), else False for a flag
nobody defined. `set` stores a value for one tenant; reading never writes.
`profile_and_flag` answers a user's profile (created if missing) and one flag in a
single query, which is what the WhatsApp channel asks before every turn.
"""

from __future__ import annotations

from agentgraph.clock import Clock
from agentgraph.domain.db import Database
from agentgraph.domain.models import Profile
from agentgraph.domain.phones import normalize_phone
from agentgraph.domain.profiles import PROFILE_COLUMNS, Profiles, check_tenant, profile_from_row

DEFAULT_FLAGS: dict[str, bool] = {"ai_agents_enabled": True}


class Flags:
    """`domain.flags`: feature switches per tenant."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def is_enabled(self, tenant: str, name: str) -> bool:
        """The tenant's stored value, else the `DEFAULT_FLAGS` default, else False."""
        value = await self._db.fetchval(
            "SELECT enabled FROM feature_flags WHERE tenant = ? AND name = ?", [tenant, name]
        )
        if value is None:
            return DEFAULT_FLAGS.get(name, False)
        return bool(value)

    async def profile_and_flag(
        self, profiles: Profiles, tenant: str, phone: str, name: str
    ) -> tuple[Profile, bool]:
        """`profiles.get_or_create(tenant, phone)` and `is_enabled(tenant, name)` at once."""
        phone = normalize_phone(phone)
        row = await self._db.fetchone(
            f"SELECT {PROFILE_COLUMNS}, (SELECT enabled FROM feature_flags "
            "WHERE feature_flags.tenant = ? AND feature_flags.name = ?) AS flag "
            "FROM profiles WHERE tenant = ? AND phone = ?",
            [tenant, name, tenant, phone],
        )
        if row is None:
            return await profiles.get_or_create(tenant, phone), await self.is_enabled(tenant, name)
        stored = row["flag"]
        enabled = DEFAULT_FLAGS.get(name, False) if stored is None else bool(stored)
        return profile_from_row(row), enabled

    async def set(self, tenant: str, name: str, enabled: bool) -> None:
        """Store `enabled` for the tenant's flag, replacing any earlier value; raises
        ValueError for a malformed tenant slug."""
        check_tenant(tenant)
        await self._db.execute(
            "INSERT INTO feature_flags (tenant, name, enabled, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tenant, name) DO UPDATE SET enabled = excluded.enabled, "
            "updated_at = excluded.updated_at",
            [tenant, name, bool(enabled), self._clock.now()],
        )

    async def all(self, tenant: str) -> dict[str, bool]:
        """Every known flag for the tenant: defaults overlaid with stored values."""
        rows = await self._db.fetchall(
            "SELECT name, enabled FROM feature_flags WHERE tenant = ?", [tenant]
        )
        return {**DEFAULT_FLAGS, **{row["name"]: bool(row["enabled"]) for row in rows}}
