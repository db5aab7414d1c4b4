"""Managing operators and API keys, on behalf of a principal and within its tenant.

Every method takes the calling `Principal` first and works inside its `scope`: a
tenant admin sees and changes only their tenant's operators and keys, and anything
of another tenant (an operator, a key, the tenant itself) is reported as not found
(`OperatorNotFound`, `ApiKeyNotFound`, `TenantNotFound`: HTTP 404, never 403). Only
a super admin may create or grant `super_admin` (`PermissionDenied` otherwise).
A password reset or a deactivation ends the operator's sessions at once.

`create_operator` and `create_api_key` are the same operations without a caller,
for the CLI's bootstrap commands; `seed_demo_operators` makes one operator per role.
"""

from __future__ import annotations

import secrets

from agentgraph.domain import Domain, DomainError, TenantNotFound
from agentgraph.domain.api_keys import ApiKey
from agentgraph.domain.operators import InvalidRole, Operator
from agentgraph.operators.auth import API_KEY_PREFIX
from agentgraph.operators.passwords import hash_password
from agentgraph.operators.principal import Principal
from agentgraph.operators.tokens import token_hash

__all__ = [
    "DEMO_OPERATORS",
    "OperatorAdmin",
    "PermissionDenied",
    "create_api_key",
    "create_operator",
    "seed_demo_operators",
]

KEY_PREFIX_LENGTH = len(API_KEY_PREFIX) + 8

# One demo operator per role: (email, role, tenant).
DEMO_OPERATORS = (
    ("super@agentgraph.test", "super_admin", None),
    ("admin@easymo.test", "tenant_admin", "easymo"),
    ("agent@easymo.test", "agent", "easymo"),
    ("viewer@easymo.test", "viewer", "easymo"),
)


class PermissionDenied(DomainError):
    """The caller's role may not do this (HTTP 403)."""

    code = "permission_denied"


async def create_operator(
    domain: Domain, email: str, password: str, role: str, tenant: str | None
) -> Operator:
    """Store a new operator with an Argon2 hash of `password`. `WeakPassword`,
    `InvalidEmail`, `InvalidRole`, `TenantNotFound`, `EmailTaken`."""
    return await domain.operators.add(email, await hash_password(password), role, tenant)


async def create_api_key(
    domain: Domain, *, tenant: str, role: str, name: str, created_by: str
) -> tuple[ApiKey, str]:
    """A new key and its secret (`ak_...`, shown once; only its hash is stored)."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = await domain.api_keys.add(
        tenant=tenant,
        role=role,
        name=name,
        prefix=secret[:KEY_PREFIX_LENGTH],
        key_hash=token_hash(secret),
        created_by=created_by,
    )
    return key, secret


async def seed_demo_operators(domain: Domain) -> list[tuple[Operator, str]]:
    """Make (or reset the password of) one demo operator per role; answers each with
    its new random password. The demo tenants must exist (`seed_demo`)."""
    made = []
    for email, role, tenant in DEMO_OPERATORS:
        password = secrets.token_urlsafe(12)
        found = await domain.operators.credentials(email)
        if found is None:
            operator = await create_operator(domain, email, password, role, tenant)
        else:
            operator = await domain.operators.update(
                found[0].id, scope=None, password_hash=await hash_password(password), active=True
            )
            await domain.operators.revoke_sessions_of(operator.id, "password reset")
        made.append((operator, password))
    return made


def _may_grant(principal: Principal, role: str) -> None:
    if role == "super_admin" and principal.role != "super_admin":
        raise PermissionDenied("Only a super_admin may grant the super_admin role.")


class OperatorAdmin:
    """Operators and keys as an admin manages them (module docstring)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    async def _tenant_for(self, principal: Principal, tenant: str | None) -> str | None:
        """The tenant a new record goes to: a tenant admin's own (another one is not found)."""
        if principal.scope is None:
            return tenant
        if tenant is not None and tenant != principal.scope:
            raise TenantNotFound(tenant)
        return principal.scope

    async def create_user(
        self, principal: Principal, *, email: str, password: str, role: str, tenant: str | None
    ) -> Operator:
        """A new operator in the caller's tenant (a super admin names any tenant)."""
        _may_grant(principal, role)
        target = await self._tenant_for(principal, tenant)
        return await create_operator(self.domain, email, password, role, target)

    async def list_users(
        self, principal: Principal, *, tenant: str | None, limit: int, offset: int
    ) -> list[Operator]:
        """Operators the caller may see (optionally of one tenant), by id."""
        if principal.scope is not None and tenant not in (None, principal.scope):
            raise TenantNotFound(str(tenant))
        return await self.domain.operators.page(
            scope=principal.scope, tenant=tenant, limit=limit, offset=offset
        )

    async def get_user(self, principal: Principal, operator_id: int) -> Operator:
        """One operator the caller may see; `OperatorNotFound` otherwise."""
        return await self.domain.operators.get(operator_id, scope=principal.scope)

    async def update_user(
        self,
        principal: Principal,
        operator_id: int,
        *,
        role: str | None = None,
        active: bool | None = None,
        password: str | None = None,
        tenant: str | None = None,
        set_tenant: bool = False,
    ) -> Operator:
        """Change role, active flag, password or (super admin only) tenant."""
        await self.domain.operators.get(operator_id, scope=principal.scope)
        if role is not None:
            _may_grant(principal, role)
        if set_tenant and principal.scope is not None:
            if tenant != principal.scope:
                raise TenantNotFound(str(tenant))
            set_tenant = False
        if set_tenant and tenant is not None:
            await self.domain.tenants.get(tenant)
        new_hash = None if password is None else await hash_password(password)
        operator = await self.domain.operators.update(
            operator_id,
            scope=principal.scope,
            role=role,
            tenant=tenant,
            set_tenant=set_tenant,
            active=active,
            password_hash=new_hash,
        )
        if new_hash is not None or active is False:
            await self.domain.operators.revoke_sessions_of(operator_id, "changed by an admin")
        return operator

    async def create_key(
        self, principal: Principal, *, tenant: str | None, role: str, name: str
    ) -> tuple[ApiKey, str]:
        """A new key of the caller's tenant (a super admin names one) and its secret."""
        _may_grant(principal, role)
        target = await self._tenant_for(principal, tenant)
        if target is None:
            raise InvalidRole("An API key belongs to a tenant: give one.", field="tenant")
        return await create_api_key(
            self.domain, tenant=target, role=role, name=name, created_by=principal.subject
        )

    async def list_keys(self, principal: Principal, *, limit: int, offset: int) -> list[ApiKey]:
        """Keys the caller may see, revoked ones included, by id."""
        return await self.domain.api_keys.page(scope=principal.scope, limit=limit, offset=offset)

    async def revoke_key(self, principal: Principal, key_id: int) -> ApiKey:
        """Revoke a key the caller may see; `ApiKeyNotFound` otherwise."""
        return await self.domain.api_keys.revoke(key_id, scope=principal.scope)
