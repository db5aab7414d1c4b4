"""A running server with two tenants and one operator per role, for operator API tests.

    async with operator_server(settings, clock=clock) as op:
        token = await op.login("admin@easymo.test")
        await op.http.get("/api/v1/users", headers=bearer(token))

Tenants `easymo` and `acme`; operators (password `PASSWORD`): `super@ops.test`
(super_admin), `admin@easymo.test`, `agent@easymo.test`, `viewer@easymo.test`,
`admin@acme.test`, `agent@acme.test`. The Argon2 hash is computed once per test
session and stored directly, so seeding costs no hashing; logins still verify it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache

import httpx
from argon2 import PasswordHasher

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.persistence import open_domain
from server.app import create_app
from tests.support.live_server import live_server

PASSWORD = "correct horse battery"
OPERATORS = {
    "super@ops.test": ("super_admin", None),
    "admin@easymo.test": ("tenant_admin", "easymo"),
    "agent@easymo.test": ("agent", "easymo"),
    "viewer@easymo.test": ("viewer", "easymo"),
    "admin@acme.test": ("tenant_admin", "acme"),
    "agent@acme.test": ("agent", "acme"),
}
ROLE_EMAIL = {
    "super_admin": "super@ops.test",
    "tenant_admin": "admin@easymo.test",
    "agent": "agent@easymo.test",
    "viewer": "viewer@easymo.test",
}


@cache
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@dataclass
class OperatorServer:
    base_url: str
    http: httpx.AsyncClient
    ids: dict[str, int] = field(default_factory=dict)

    async def login_response(
        self, email: str, password: str = PASSWORD, **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            "/api/v1/auth/token", data={"username": email, "password": password}, headers=headers
        )

    async def tokens(self, email: str) -> dict:
        response = await self.login_response(email)
        assert response.status_code == 200, response.text
        return response.json()

    async def login(self, email: str) -> str:
        return str((await self.tokens(email))["access_token"])


async def seed_operators(settings: Settings) -> dict[str, int]:
    ids = {}
    async with open_domain(settings) as domain:
        await domain.tenants.add("easymo", "easyMO")
        await domain.tenants.add("acme", "Acme")
        for email, (role, tenant) in OPERATORS.items():
            operator = await domain.operators.add(email, password_hash(), role, tenant)
            ids[email] = operator.id
    return ids


@asynccontextmanager
async def operator_server(
    settings: Settings, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[OperatorServer]:
    ids = await seed_operators(settings)
    async with (
        live_server(create_app(settings, clock=clock)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        yield OperatorServer(base, http, ids)
