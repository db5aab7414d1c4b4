"""Operator accounts and their login sessions: the people who run a tenant's assistant.

An operator has a unique email (trimmed and lower-cased before it is stored or
looked up), an Argon2 password hash made by the caller (`agentgraph.operators`
hashes; this module only stores), a role (`super_admin`, `tenant_admin`, `agent`,
`viewer`), a tenant (None exactly for a super admin; otherwise an existing tenant),
an active flag and its creation, update and last-login times.

Every read and write that a tenant's operator can cause takes `scope`: the tenant
slug the caller may see, or None for a super admin, who sees every tenant. A row
outside the scope is reported exactly like a missing one (`OperatorNotFound`), so
callers answer 404 for both and never reveal another tenant's operators.

A session is one login's refresh-token family: its id, the hash of the one refresh
token that may still be used, and its expiry. `rotate` swaps the hash atomically, so
a refresh token works once; presenting an older one is a reuse and revokes the
session (`Rotation.REUSED`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from agentgraph.clock import Clock
from agentgraph.domain.db import ConstraintViolation, Database, Row
from agentgraph.domain.errors import DomainError, TenantNotFound
from agentgraph.domain.timestamps import as_datetime, as_optional_datetime

__all__ = [
    "ROLES",
    "EmailTaken",
    "InvalidEmail",
    "InvalidRole",
    "Operator",
    "OperatorNotFound",
    "Operators",
    "Rotation",
    "normalize_email",
]

ROLES = ("super_admin", "tenant_admin", "agent", "viewer")
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COLUMNS = "id, email, role, tenant, active, created_at, updated_at, last_login_at"


class OperatorNotFound(DomainError):
    """No operator with this id (or email) in the caller's scope."""

    code = "operator_not_found"

    def __init__(self) -> None:
        super().__init__("No such operator.")


class EmailTaken(DomainError):
    """Another operator already has this email (emails are unique across tenants)."""

    code = "email_taken"

    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"An operator with the email {email} already exists.")


class InvalidEmail(DomainError):
    """The text is not an email address of at most 254 characters."""

    code = "invalid_email"

    def __init__(self) -> None:
        super().__init__("Please give a valid email address.")


class InvalidRole(DomainError):
    """An unknown role, or a role and tenant that do not go together (a super admin has
    no tenant; every other role needs one). `field` names the input to fix: `role` or
    `tenant`."""

    code = "invalid_role"

    def __init__(self, user_message: str, field: str = "role") -> None:
        super().__init__(user_message)
        self.field = field


def normalize_email(email: object) -> str:
    """`email` trimmed and lower-cased; `InvalidEmail` when it does not look like one."""
    if not isinstance(email, str):
        raise InvalidEmail()
    value = email.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise InvalidEmail()
    return value


def check_role(role: str, tenant: str | None) -> None:
    """`InvalidRole` unless `role` is known and has a tenant exactly when it is not
    `super_admin`."""
    if role not in ROLES:
        raise InvalidRole(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if (role == "super_admin") != (tenant is None):
        raise InvalidRole(
            "A super_admin has no tenant."
            if tenant is not None
            else f"The role {role} belongs to a tenant: give one.",
            field="tenant",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """An operator account as stored (never its password hash)."""

    id: int
    email: str
    role: str
    tenant: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class Rotation(Enum):
    """What presenting a refresh token to `Operators.rotate` did."""

    ROTATED = "rotated"
    REUSED = "reused"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def _operator(row: Row) -> Operator:
    return Operator(
        id=int(row["id"]),
        email=row["email"],
        role=row["role"],
        tenant=row["tenant"],
        active=bool(row["active"]),
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        last_login_at=as_optional_datetime(row["last_login_at"]),
    )


def _scoped(sql: str, params: list[Any], scope: str | None) -> tuple[str, list[Any]]:
    if scope is None:
        return sql, params
    return sql + " AND tenant = ?", [*params, scope]


class Operators:
    """`domain.operators`: operator accounts and their sessions."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(self, email: str, password_hash: str, role: str, tenant: str | None) -> Operator:
        """Store a new active operator. `InvalidEmail`, `InvalidRole`, `TenantNotFound`,
        `EmailTaken`."""
        email = normalize_email(email)
        check_role(role, tenant)
        now = self._clock.now()
        try:
            row = await self._db.fetchone(
                "INSERT INTO operators (email, password_hash, role, tenant, active, created_at, "
                f"updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                [email, password_hash, role, tenant, True, now, now],
            )
        except ConstraintViolation as exc:
            if exc.kind == "unique":
                raise EmailTaken(email) from None
            if exc.kind == "foreign_key":
                raise TenantNotFound(str(tenant)) from None
            raise
        assert row is not None
        return _operator(row)

    async def get(self, operator_id: int, *, scope: str | None) -> Operator:
        """The operator `operator_id` within `scope`; `OperatorNotFound` otherwise."""
        sql, params = _scoped(
            f"SELECT {_COLUMNS} FROM operators WHERE id = ?", [operator_id], scope
        )
        row = await self._db.fetchone(sql, params)
        if row is None:
            raise OperatorNotFound()
        return _operator(row)

    async def credentials(self, email: str) -> tuple[Operator, str] | None:
        """The operator with this email and their password hash (None: no such email)."""
        try:
            email = normalize_email(email)
        except InvalidEmail:
            return None
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS}, password_hash FROM operators WHERE email = ?", [email]
        )
        return None if row is None else (_operator(row), str(row["password_hash"]))

    async def page(
        self, *, scope: str | None, tenant: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Operator]:
        """Operators within `scope` (and of `tenant` when given), by id."""
        sql, params = _scoped(f"SELECT {_COLUMNS} FROM operators WHERE 1 = 1", [], scope)
        if tenant is not None:
            sql, params = sql + " AND tenant = ?", [*params, tenant]
        rows = await self._db.fetchall(
            sql + " ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [_operator(r) for r in rows]

    async def update(
        self,
        operator_id: int,
        *,
        scope: str | None,
        role: str | None = None,
        tenant: str | None = None,
        set_tenant: bool = False,
        active: bool | None = None,
        password_hash: str | None = None,
    ) -> Operator:
        """Change the given fields of an operator within `scope` (`tenant` only when
        `set_tenant`); the result must still pair role and tenant (`InvalidRole`).
        `OperatorNotFound`, `TenantNotFound`."""
        current = await self.get(operator_id, scope=scope)
        new_role = role if role is not None else current.role
        new_tenant = tenant if set_tenant else current.tenant
        check_role(new_role, new_tenant)
        sets = ["role = ?", "tenant = ?", "updated_at = ?"]
        params: list[Any] = [new_role, new_tenant, self._clock.now()]
        if active is not None:
            sets.append("active = ?")
            params.append(active)
        if password_hash is not None:
            sets.append("password_hash = ?")
            params.append(password_hash)
        sql, params = _scoped(
            f"UPDATE operators SET {', '.join(sets)} WHERE id = ?", [*params, operator_id], scope
        )
        try:
            changed = await self._db.execute(sql, params)
        except ConstraintViolation as exc:
            if exc.kind == "foreign_key":
                raise TenantNotFound(str(new_tenant)) from None
            raise
        if changed == 0:
            raise OperatorNotFound()
        return await self.get(operator_id, scope=None)

    async def record_login(self, operator_id: int) -> None:
        """Set the operator's last-login time to now."""
        await self._db.execute(
            "UPDATE operators SET last_login_at = ? WHERE id = ?", [self._clock.now(), operator_id]
        )

    async def open_session(
        self, operator_id: int, session_id: str, token_hash: str, expires_at: datetime
    ) -> None:
        """Start a login session whose one usable refresh token hashes to `token_hash`."""
        now = self._clock.now()
        await self._db.execute(
            "INSERT INTO operator_sessions (id, operator_id, current_hash, created_at, "
            "rotated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            [session_id, operator_id, token_hash, now, now, expires_at],
        )

    async def rotate(
        self, session_id: str, token_hash: str, new_hash: str, expires_at: datetime
    ) -> Rotation:
        """Replace the session's refresh token if `token_hash` is its current one and the
        session is live. A non-current hash of a live session is a reuse: the session
        is revoked."""
        now = self._clock.now()
        rotated = await self._db.execute(
            "UPDATE operator_sessions SET current_hash = ?, rotated_at = ?, expires_at = ? "
            "WHERE id = ? AND current_hash = ? AND revoked_at IS NULL AND expires_at > ?",
            [new_hash, now, expires_at, session_id, token_hash, now],
        )
        if rotated:
            return Rotation.ROTATED
        row = await self._db.fetchone(
            "SELECT current_hash, expires_at, revoked_at FROM operator_sessions WHERE id = ?",
            [session_id],
        )
        if row is None:
            return Rotation.UNKNOWN
        if row["revoked_at"] is not None:
            return Rotation.REVOKED
        if as_datetime(row["expires_at"]) <= now:
            return Rotation.EXPIRED
        await self.revoke_session(session_id, "reuse")
        return Rotation.REUSED

    async def revoke_session(self, session_id: str, reason: str) -> None:
        """End a session: its refresh token and its access tokens stop working."""
        await self._db.execute(
            "UPDATE operator_sessions SET revoked_at = ?, revoked_reason = ? "
            "WHERE id = ? AND revoked_at IS NULL",
            [self._clock.now(), reason, session_id],
        )

    async def revoke_sessions_of(self, operator_id: int, reason: str) -> None:
        """End every live session of an operator (password reset, deactivation)."""
        await self._db.execute(
            "UPDATE operator_sessions SET revoked_at = ?, revoked_reason = ? "
            "WHERE operator_id = ? AND revoked_at IS NULL",
            [self._clock.now(), reason, operator_id],
        )

    async def in_session(self, operator_id: int, session_id: str) -> Operator | None:
        """The operator when they are active and `session_id` is their unrevoked session."""
        row = await self._db.fetchone(
            "SELECT o.id, o.email, o.role, o.tenant, o.active, o.created_at, o.updated_at, "
            "o.last_login_at FROM operators o JOIN operator_sessions s ON s.operator_id = o.id "
            "WHERE o.id = ? AND s.id = ? AND s.revoked_at IS NULL AND o.active = ?",
            [operator_id, session_id, True],
        )
        return None if row is None else _operator(row)
