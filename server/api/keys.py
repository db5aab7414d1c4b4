"""`/api/v1/keys`: service API keys, for super admins and tenant admins.

A key is shown once, in the answer to its creation (`key`: `ak_...`); listings show
its `prefix` only. Keys belong to one tenant and have the role `tenant_admin`,
`agent` or `viewer`; a tenant admin manages only their tenant's keys (another
tenant's is a 404). `DELETE` revokes a key at once and for good.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from server.api.deps import AdminDep, AdminPrincipal, OperatorRoute, errors
from server.api.schemas import MAX_PAGE, Key, KeyCreate, KeyCreated, KeyPage

router = APIRouter(prefix="/keys", tags=["keys"], route_class=OperatorRoute)

KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post("", status_code=201, response_model=KeyCreated, responses=errors(401, 403, 404))
async def create_key(body: KeyCreate, principal: AdminPrincipal, admin: AdminDep) -> KeyCreated:
    """Create a key; the answer holds the key itself, which is never shown again."""
    key, secret = await admin.create_key(
        principal, tenant=body.tenant, role=body.role, name=body.name
    )
    return KeyCreated(**Key.of(key).model_dump(), key=secret)


@router.get("", response_model=KeyPage, responses=errors(401, 403))
async def list_keys(
    principal: AdminPrincipal,
    admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> KeyPage:
    """Keys the caller may see (revoked ones included), by id."""
    found = await admin.list_keys(principal, limit=limit, offset=offset)
    return KeyPage(items=[Key.of(k) for k in found], limit=limit, offset=offset)


@router.delete(
    "/{key_id}", status_code=204, response_class=Response, responses=errors(401, 403, 404)
)
async def revoke_key(key_id: KeyId, principal: AdminPrincipal, admin: AdminDep) -> Response:
    """Revoke a key (idempotent): requests with it are 401 from now on."""
    await admin.revoke_key(principal, key_id)
    return Response(status_code=204)
