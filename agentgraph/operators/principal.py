"""Who is calling: the principal an operator credential resolves to, and the roles.

A `Principal` is an operator signed in with a JWT (`kind="operator"`, with the
session the token belongs to) or a service API key (`kind="api_key"`). `scope` is
what every query it causes is filtered by: its tenant, or None for a super admin,
who sees every tenant. Roles, from most to least powerful: `super_admin` (every
tenant), `tenant_admin` (their tenant: agents, settings, users, keys, analytics),
`agent` (a human support agent: conversations and the inbox of their tenant),
`viewer` (read-only analytics of their tenant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ADMIN_ROLES", "ALL_ROLES", "Principal", "Role"]

Role = Literal["super_admin", "tenant_admin", "agent", "viewer"]
ALL_ROLES: tuple[Role, ...] = ("super_admin", "tenant_admin", "agent", "viewer")
ADMIN_ROLES: tuple[Role, ...] = ("super_admin", "tenant_admin")


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """An authenticated caller. `id` is the operator's or the key's id; `email` is set
    for operators, `name` for keys; `session` is the operator's login session."""

    kind: Literal["operator", "api_key"]
    id: int
    role: Role
    tenant: str | None
    email: str | None = None
    name: str | None = None
    session: str | None = None

    @property
    def scope(self) -> str | None:
        """The tenant every query is filtered by; None (every tenant) for a super admin."""
        return None if self.role == "super_admin" else self.tenant

    @property
    def subject(self) -> str:
        """`operator:<id>` or `key:<id>`: who did something, for the records."""
        return f"{'operator' if self.kind == 'operator' else 'key'}:{self.id}"
