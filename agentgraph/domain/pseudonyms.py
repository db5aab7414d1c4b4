"""Pseudonyms: how thread ids, traces and metrics name a user without their phone number.

`await pseudonyms.of(tenant, user)` answers `HMAC-SHA256(key, tenant + user)`, cut to
20 base32 characters (100 bits), and records the mapping the first time this process
sees the pair, so `await pseudonyms.user_of(tenant, pseudonym)` can answer an operator
or a customer's data request. The same user of another tenant gets another pseudonym.
A hash without a key could be reversed by hashing every phone number of a country; the
key is AGENTGRAPH_PSEUDONYM_KEY when set (several deployments sharing one name space),
otherwise a random key made once and kept in `app_keys`, so a deployment's pseudonyms
never change between restarts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

from agentgraph.clock import Clock
from agentgraph.domain.app_keys import AppKeys
from agentgraph.domain.db import Database

__all__ = ["PSEUDONYM_LENGTH", "Pseudonyms", "pseudonym"]

PSEUDONYM_LENGTH = 20
_KEY_NAME = "pseudonym_key"
# Pairs already recorded by this process; past this many the set starts over (each
# forgotten pair costs one idempotent insert when it is next seen).
_REMEMBERED_MAX = 100_000


def pseudonym(key: bytes, tenant: str, user: str) -> str:
    """The pseudonym of `user` of `tenant` under `key` (lower-case base32, no padding)."""
    digest = hmac.new(key, f"{tenant}\x00{user}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:PSEUDONYM_LENGTH]


class Pseudonyms:
    """`domain.pseudonyms`: the keyed pseudonym of each user and the way back."""

    def __init__(
        self, db: Database, clock: Clock, app_keys: AppKeys, key: bytes | None = None
    ) -> None:
        self._db = db
        self._app_keys = app_keys
        self._clock = clock
        self._key = key
        self._key_lock = asyncio.Lock()
        self._remembered: set[tuple[str, str]] = set()

    async def key(self) -> bytes:
        """The deployment's key: the configured one, else the stored one (made if none)."""
        if self._key is not None:
            return self._key
        async with self._key_lock:
            if self._key is None:
                self._key = bytes.fromhex(await self._app_keys.get_or_create(_KEY_NAME))
        return self._key

    async def of(self, tenant: str, user: str) -> str:
        """`user`'s pseudonym in `tenant`, recorded so it can be mapped back."""
        name = pseudonym(await self.key(), tenant, user)
        if (tenant, name) not in self._remembered:
            await self._db.execute(
                "INSERT INTO user_pseudonyms (tenant, pseudonym, user_id, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (tenant, pseudonym) DO NOTHING",
                [tenant, name, user, self._clock.now()],
            )
            if len(self._remembered) >= _REMEMBERED_MAX:
                self._remembered.clear()
            self._remembered.add((tenant, name))
        return name

    async def user_of(self, tenant: str, name: str) -> str | None:
        """The user behind pseudonym `name` of `tenant`, or None if it was never made."""
        row = await self._db.fetchone(
            "SELECT user_id FROM user_pseudonyms WHERE tenant = ? AND pseudonym = ?",
            [tenant, name],
        )
        return None if row is None else str(row["user_id"])
