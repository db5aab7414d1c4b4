"""`/api/v1/agents`: the agent registry that drives the assistant (docs/api.md).

Every role reads (list, one agent, its history, a tenant's configuration); super
admins and tenant admins write (`agentgraph.operators.agent_admin` says who may
change what). Another tenant's agent is a 404 like a missing one.

Optimistic concurrency: every answer about one agent carries `ETag: "<version>"`;
`PATCH` and `DELETE` take it back in `If-Match` and answer 412 when the agent changed
meanwhile (re-read, re-apply), 428 without `If-Match` (`If-Match: *` writes over
whatever is current). `DELETE` archives: the answer is the archived agent
(`archived_at` set); its name is free again, its history stays readable, and
conversations it was serving go back to triage on their next turn.

A tenant runs a global agent with its own configuration merged in:
`PATCH /agents/{id}/configuration` sets fields for the caller's tenant (a super admin
names the tenant in `?tenant=`), `DELETE` drops them. Changes reach every running
assistant on its next turn, without a restart.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from agentgraph.domain.agent_configurations import AgentConfiguration
from agentgraph.domain.agent_records import Agent
from server.api.agent_schemas import (
    AgentConfigUpdate,
    AgentCreate,
    AgentOut,
    AgentPage,
    AgentUpdate,
    ChangeOut,
    ConfigurationOut,
    HistoryPage,
    Status,
)
from server.api.deps import (
    AdminPrincipal,
    AgentsDep,
    AnyPrincipal,
    IfMatch,
    OperatorRoute,
    errors,
)
from server.api.schemas import MAX_PAGE, TenantSlug

router = APIRouter(prefix="/agents", tags=["agents"], route_class=OperatorRoute)

AgentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
TenantQuery = Annotated[
    TenantSlug | None,
    Query(description="A super admin's choice of tenant; others may only name their own"),
]


def _documented(status: int, *codes: int) -> dict[int | str, dict[str, Any]]:
    etag = {"ETag": {"description": 'The version, e.g. `"3"`', "schema": {"type": "string"}}}
    return {status: {"headers": etag}, **errors(*codes)}


def _tagged(response: Response, agent: Agent) -> None:
    response.headers["ETag"] = f'"{agent.version}"'


@router.post(
    "", status_code=201, response_model=AgentOut, responses=_documented(201, 401, 403, 404, 409)
)
async def create_agent(
    body: AgentCreate, principal: AdminPrincipal, agents: AgentsDep, response: Response
) -> AgentOut:
    """Register an agent (version 1) for the caller's tenant, or the tenant a super
    admin names (none: a global agent every tenant runs)."""
    agent = await agents.create_agent(principal, tenant=body.tenant, fields=body.changes())
    _tagged(response, agent)
    response.headers["Location"] = f"/api/v1/agents/{agent.id}"
    return AgentOut.of(agent)


@router.get("", response_model=AgentPage, responses=errors(401, 404))
async def list_agents(
    principal: AnyPrincipal,
    agents: AgentsDep,
    tenant: TenantQuery = None,
    status: Annotated[Status | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AgentPage:
    """Live agents the caller's tenant runs (its own and the global ones, with its
    configuration applied), by id; a super admin sees the global ones, or a tenant's."""
    found = await agents.list_agents(principal, tenant=tenant, status=status)
    page = found[offset : offset + limit]
    return AgentPage(items=[AgentOut.of(a) for a in page], limit=limit, offset=offset)


@router.get("/{agent_id}", response_model=AgentOut, responses=_documented(200, 401, 404))
async def get_agent(
    agent_id: AgentId, principal: AnyPrincipal, agents: AgentsDep, response: Response
) -> AgentOut:
    """One live agent as the caller's tenant runs it."""
    agent = await agents.get_agent(principal, agent_id)
    _tagged(response, agent)
    return AgentOut.of(agent)


@router.patch(
    "/{agent_id}",
    response_model=AgentOut,
    responses=_documented(200, 401, 403, 404, 409, 412, 428),
)
async def update_agent(
    agent_id: AgentId,
    body: AgentUpdate,
    principal: AdminPrincipal,
    agents: AgentsDep,
    version: IfMatch,
    response: Response,
) -> AgentOut:
    """Change the agent itself. A tenant admin changes their tenant's own agents; a
    global agent is configured for a tenant at `/agents/{id}/configuration` instead."""
    agent = await agents.update_agent(principal, agent_id, body.changes(), expected_version=version)
    _tagged(response, agent)
    return AgentOut.of(agent)


@router.delete(
    "/{agent_id}", response_model=AgentOut, responses=_documented(200, 401, 403, 404, 412, 428)
)
async def archive_agent(
    agent_id: AgentId,
    principal: AdminPrincipal,
    agents: AgentsDep,
    version: IfMatch,
    response: Response,
) -> AgentOut:
    """Archive the agent (module docstring): the answer is the archived agent."""
    agent = await agents.archive_agent(principal, agent_id, expected_version=version)
    _tagged(response, agent)
    return AgentOut.of(agent)


@router.get("/{agent_id}/history", response_model=HistoryPage, responses=errors(401, 404))
async def agent_history(
    agent_id: AgentId,
    principal: AnyPrincipal,
    agents: AgentsDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> HistoryPage:
    """The agent's audit trail, oldest first (an archived agent's too): its own changes
    and the caller's tenant's configuration changes (every tenant's for a super admin)."""
    changes = await agents.history(principal, agent_id)
    # The creation is written in the owner's scope; other scopes are configurations.
    owner = next((c.tenant for c in changes if c.action == "create"), "")
    items = [ChangeOut.of(c, owner) for c in changes[offset : offset + limit]]
    return HistoryPage(items=items, limit=limit, offset=offset)


def _configuration(
    response: Response, tenant: str, agent: Agent, config: AgentConfiguration | None
) -> ConfigurationOut:
    _tagged(response, agent)
    return ConfigurationOut.of(tenant, agent, config)


@router.get(
    "/{agent_id}/configuration",
    response_model=ConfigurationOut,
    responses=_documented(200, 401, 404, 409),
)
async def get_configuration(
    agent_id: AgentId,
    principal: AnyPrincipal,
    agents: AgentsDep,
    response: Response,
    tenant: TenantQuery = None,
) -> ConfigurationOut:
    """The caller's tenant's configuration of a global agent (409 for a tenant's own
    agent, which has none) and the agent as that tenant runs it."""
    target, agent, config = await agents.configuration(principal, agent_id, tenant=tenant)
    return _configuration(response, target, agent, config)


@router.patch(
    "/{agent_id}/configuration",
    response_model=ConfigurationOut,
    responses=_documented(200, 401, 403, 404, 409, 412, 428),
)
async def configure_agent(
    agent_id: AgentId,
    body: AgentConfigUpdate,
    principal: AdminPrincipal,
    agents: AgentsDep,
    version: IfMatch,
    response: Response,
    tenant: TenantQuery = None,
) -> ConfigurationOut:
    """Merge these fields into the tenant's configuration of a global agent."""
    target, agent, config = await agents.configure(
        principal, agent_id, body.changes(), tenant=tenant, expected_version=version
    )
    return _configuration(response, target, agent, config)


@router.delete(
    "/{agent_id}/configuration",
    response_model=ConfigurationOut,
    responses=_documented(200, 401, 403, 404, 409, 412, 428),
)
async def reset_configuration(
    agent_id: AgentId,
    principal: AdminPrincipal,
    agents: AgentsDep,
    version: IfMatch,
    response: Response,
    tenant: TenantQuery = None,
) -> ConfigurationOut:
    """Drop the tenant's configuration: it runs the global agent as defined again."""
    target, agent = await agents.reset(principal, agent_id, tenant=tenant, expected_version=version)
    return _configuration(response, target, agent, None)
