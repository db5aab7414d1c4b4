"""Deployment secrets made once and kept in the database (`app_keys`).

`await app_keys.get_or_create(name)` answers the stored value of `name`, making a
random 256-bit hex value the first time. Every process on the same database gets
the same value, and it survives restarts; two processes creating it at once agree
on the first one stored. Used where an environment variable may supply a secret but
a development deployment should work without one (the operators' JWT key).
"""

from __future__ import annotations

import secrets

from agentgraph.clock import Clock
from agentgraph.domain.db import Database


class AppKeys:
    """`domain.app_keys`: named secrets of this deployment."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get_or_create(self, name: str) -> str:
        """The value stored under `name`, made (random hex) and stored if there is none."""
        await self._db.execute(
            "INSERT INTO app_keys (name, value, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            [name, secrets.token_hex(32), self._clock.now()],
        )
        value = await self._db.fetchval("SELECT value FROM app_keys WHERE name = ?", [name])
        if value is None:
            raise RuntimeError(f"app_keys holds no {name} after inserting one")
        return str(value)
