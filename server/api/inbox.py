"""`/api/v1/inbox`: the escalated conversations of the caller's tenant, listed and pushed.

`GET /api/v1/inbox` lists items (filters: `status`, default every unreleased one;
`priority`; `assignee`: `me`, `none` or a subject such as `operator:3`), most
pressing SLA first. `WS /api/v1/inbox/ws` (credential as `?token=` or
`Authorization: Bearer`) first sends `{"event": "snapshot", "items": [...]}` and then
every change as `{"event": "new" | "claimed" | "unclaimed" | "message" | "replied" |
"released", "item": {...}}` for the caller's tenant (every tenant for a super
admin), across server processes through Redis when `REDIS_URL` is set. A missing or
bad credential, or a role outside agent/tenant_admin/super_admin, closes the socket
with 1008 before it opens. `GET|PUT /api/v1/inbox/template` is the tenant's template
for replies outside WhatsApp's 24-hour window (admins).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from fastapi.websockets import WebSocketDisconnect

from agentgraph.domain import Domain
from agentgraph.operators import ADMIN_ROLES, Principal
from agentgraph.operators.inbox import INBOX_ROLES, InboxDesk
from server.api.deps import OperatorRoute, errors, principal_of, require
from server.api.inbox_schemas import Item, ItemPage, Priority, Status, TemplateBody
from server.api.schemas import MAX_PAGE, TenantSlug

router = APIRouter(prefix="/inbox", tags=["inbox"], route_class=OperatorRoute)
socket_router = APIRouter(prefix="/inbox", tags=["inbox"])

InboxPrincipal = Annotated[Principal, Depends(require(*INBOX_ROLES))]
InboxAdmin = Annotated[Principal, Depends(require(*ADMIN_ROLES))]
Assignee = Annotated[str, Query(max_length=100, pattern=r"^(me|none|operator:\d+|key:\d+)$")]


def _domain(request: Request) -> Domain:
    domain: Domain = request.app.state.assistant.persistence.domain
    return domain


DomainDep = Annotated[Domain, Depends(_domain)]


@router.get("", response_model=ItemPage, responses=errors(401, 403))
async def list_inbox(
    principal: InboxPrincipal,
    domain: DomainDep,
    status: Annotated[Status | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    assignee: Assignee | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ItemPage:
    """The tenant's escalated conversations (unreleased unless `status` says otherwise)."""
    found = await InboxDesk(domain).items(
        principal, status=status, priority=priority, assignee=assignee, limit=limit
    )
    now = domain.human_inbox.now()
    return ItemPage(items=[Item.of(item, now) for item in found])


def _tenant_of(principal: Principal, tenant: str | None) -> str:
    chosen = tenant if principal.scope is None else principal.scope
    if chosen is None:
        raise HTTPException(422, "a super admin names the tenant: ?tenant=<slug>")
    if principal.scope is not None and tenant not in (None, principal.scope):
        raise HTTPException(404, "No such tenant.")
    return chosen


@router.get("/template", response_model=TemplateBody, responses=errors(401, 403, 404))
async def get_template(
    principal: InboxAdmin,
    domain: DomainDep,
    tenant: Annotated[TenantSlug | None, Query()] = None,
) -> TemplateBody:
    """The tenant's late-reply template; 404 when it has none."""
    found = await domain.inbox_templates.get(_tenant_of(principal, tenant))
    if found is None:
        raise HTTPException(404, "This tenant has no reply template.")
    return TemplateBody(name=found.name, language=found.language, parameters=list(found.parameters))


@router.put("/template", response_model=TemplateBody, responses=errors(401, 403, 404))
async def put_template(
    body: TemplateBody,
    principal: InboxAdmin,
    domain: DomainDep,
    tenant: Annotated[TenantSlug | None, Query()] = None,
) -> TemplateBody:
    """Set the tenant's late-reply template (a template Meta approved for the number)."""
    chosen = _tenant_of(principal, tenant)
    await domain.tenants.get(chosen)  # TenantNotFound: 404
    saved = await domain.inbox_templates.set(
        chosen, body.name, body.language, tuple(body.parameters)
    )
    return TemplateBody(name=saved.name, language=saved.language, parameters=list(saved.parameters))


async def _forward(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(await queue.get())


def _credential(websocket: WebSocket) -> str | None:
    given = websocket.query_params.get("token")
    header = websocket.headers.get("authorization", "")
    if given is None and header[:7].lower() == "bearer ":
        given = header[7:].strip()
    return given or None


@socket_router.websocket("/ws")
async def inbox_socket(websocket: WebSocket) -> None:
    """Push the caller's tenant's inbox changes (module docstring)."""
    credential = _credential(websocket)
    principal = await principal_of(websocket, credential) if credential else None
    if principal is None or principal.role not in INBOX_ROLES:
        await websocket.close(code=1008, reason="an agent or admin credential is required")
        return
    domain: Domain = websocket.app.state.assistant.persistence.domain
    async with domain.human_inbox.feed.subscribe(principal.scope) as queue:
        await websocket.accept()
        items = await InboxDesk(domain).items(principal, limit=MAX_PAGE)
        now = domain.human_inbox.now()
        snapshot = [Item.of(i, now).model_dump(mode="json") for i in items]
        await websocket.send_json({"event": "snapshot", "items": snapshot})
        sender = asyncio.create_task(_forward(websocket, queue))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        except WebSocketDisconnect:
            return
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
