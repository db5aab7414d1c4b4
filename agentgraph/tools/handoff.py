"""Handoff tools: one per agent, each returning a `Command` that moves the conversation.

`HANDOFF_TOOLS[agent]` moves the conversation to `agent`. Each tool carries its
destination in its metadata and in the `ToolMessage` it returns
(`agentgraph.handoff.handoff_destination` reads either), as langgraph-swarm does, so
no code finds a handoff by its name. `make_handoff_tool(agent, purpose, capabilities)`
builds one for a tenant's registry (the destination's description and capabilities);
`HANDOFF_TOOLS` are the built-in ones, which run every handoff: a handoff behaves the
same whatever its description says.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain.shipped_agents import AGENT_TEMPLATES
from agentgraph.handoff import HANDOFF_CAPABILITIES, HANDOFF_DESTINATION
from agentgraph.state import AGENT_NAMES, AgentName

__all__ = ["HANDOFF_TOOLS", "make_handoff_tool"]

_PURPOSE: dict[AgentName, str] = {
    "triage": "general questions, greetings, the main menu, or when unsure who should help",
    "booking": "bus trips: searching, seat availability, booking, cancelling, listing bookings",
    "payment": "the wallet: balance, transaction history, sending money",
    "support": "help articles, problems and tickets, account/subscription/invoice lookups",
}


def make_handoff_tool(
    agent: AgentName, purpose: str | None = None, capabilities: tuple[str, ...] | None = None
) -> BaseTool:
    """A tool that moves the conversation to `agent`, described by `purpose` (default:
    the built-in one) and carrying the destination's `capabilities` in its metadata."""
    name = f"transfer_to_{agent}"
    purpose = (purpose or _PURPOSE[agent]).rstrip(".")

    @tool(name, description=f"Hand the conversation to the {agent} agent: {purpose}.")
    def handoff(
        runtime: ToolRuntime[Context, Any],
        reason: Annotated[str | None, Field(description="One line on why.")] = None,
    ) -> Command[Any]:
        message = ToolMessage(
            f"Transferred to {agent}" + (f": {reason}" if reason else "."),
            tool_call_id=runtime.tool_call_id or "",
            name=name,
            response_metadata={HANDOFF_DESTINATION: agent},
        )
        return Command(goto=agent, update={"messages": [message], "active_agent": agent})

    if capabilities is None:
        capabilities = AGENT_TEMPLATES[agent].capabilities
    handoff.metadata = {HANDOFF_DESTINATION: agent, HANDOFF_CAPABILITIES: list(capabilities)}
    return handoff


HANDOFF_TOOLS: dict[AgentName, BaseTool] = {
    agent: make_handoff_tool(agent) for agent in AGENT_NAMES
}
