"""`/api/v1/tools`: the tool catalogue an agent's `tools` are chosen from (every role).

Each tool with what it does, whether it moves money (such tools always pause for
the user's explicit yes) and the agent types that ship with it. Handoffs between
agents are not in it: they follow from which agents a tenant runs.
"""

from __future__ import annotations

from fastapi import APIRouter

from server.api.agent_schemas import ToolCatalogue, ToolOut
from server.api.deps import AgentsDep, AnyPrincipal, OperatorRoute, errors

router = APIRouter(prefix="/tools", tags=["agents"], route_class=OperatorRoute)


@router.get("", response_model=ToolCatalogue, responses=errors(401))
async def list_tools(principal: AnyPrincipal, agents: AgentsDep) -> ToolCatalogue:
    """Every tool the registry may enable, by name."""
    return ToolCatalogue(items=[ToolOut.of(t) for t in agents.catalogue()])
