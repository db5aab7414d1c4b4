"""`/api/v1/users`: operator accounts, for super admins and tenant admins.

A tenant admin creates, lists, reads and changes only their own tenant's operators
and never grants `super_admin` (403); an operator of another tenant is a 404.
Duplicate email is 409. Pages are `limit` (1-100, default 50) and `offset`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from server.api.deps import AdminDep, AdminPrincipal, OperatorRoute, errors
from server.api.schemas import MAX_PAGE, TenantSlug, User, UserCreate, UserPage, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], route_class=OperatorRoute)

UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.post("", status_code=201, response_model=User, responses=errors(401, 403, 404, 409))
async def create_user(body: UserCreate, principal: AdminPrincipal, admin: AdminDep) -> User:
    """Create an operator (active) with an Argon2-hashed password."""
    operator = await admin.create_user(
        principal, email=body.email, password=body.password, role=body.role, tenant=body.tenant
    )
    return User.of(operator)


@router.get("", response_model=UserPage, responses=errors(401, 403, 404))
async def list_users(
    principal: AdminPrincipal,
    admin: AdminDep,
    tenant: Annotated[TenantSlug | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UserPage:
    """Operators the caller may see, by id (a super admin may filter by `tenant`)."""
    found = await admin.list_users(principal, tenant=tenant, limit=limit, offset=offset)
    return UserPage(items=[User.of(o) for o in found], limit=limit, offset=offset)


@router.get("/{user_id}", response_model=User, responses=errors(401, 403, 404))
async def get_user(user_id: UserId, principal: AdminPrincipal, admin: AdminDep) -> User:
    """One operator of the caller's tenant (any tenant for a super admin)."""
    return User.of(await admin.get_user(principal, user_id))


@router.patch("/{user_id}", response_model=User, responses=errors(401, 403, 404))
async def update_user(
    user_id: UserId, body: UserUpdate, principal: AdminPrincipal, admin: AdminDep
) -> User:
    """Change role, active flag, password (a reset) or, for a super admin, tenant."""
    operator = await admin.update_user(
        principal,
        user_id,
        role=body.role,
        active=body.active,
        password=body.password,
        tenant=body.tenant,
        set_tenant="tenant" in body.model_fields_set,
    )
    return User.of(operator)
