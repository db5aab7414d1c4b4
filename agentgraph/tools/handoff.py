"""Handoff tools: how one agent passes the conversation to another.

Each `transfer_to_<agent>` tool returns a `Command` that records a ToolMessage and
names the next agent; the graph's tool node follows it. The whole history stays in
one thread, so the receiving agent sees everything the user said.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command
from pydantic import Field

from agentgraph.context import Context
from agentgraph.state import AGENT_NAMES, AgentName

_PURPOSE: dict[AgentName, str] = {
    "triage": "general questions, greetings, the main menu, or when unsure who should help",
    "booking": "bus trips: searching, seat availability, booking, cancelling, listing bookings",
    "payment": "the wallet: balance, transaction history, sending money",
    "support": "help articles, problems and tickets, account/subscription/invoice lookups",
}

HANDOFF_PREFIX = "transfer_to_"


def handoff_tool_name(agent: AgentName) -> str:
    return f"{HANDOFF_PREFIX}{agent}"


def make_handoff_tool(agent: AgentName) -> BaseTool:
    """A tool that moves the conversation to `agent`."""

    @tool(
        handoff_tool_name(agent),
        description=f"Hand the conversation to the {agent} agent: {_PURPOSE[agent]}.",
    )
    def handoff(
        runtime: ToolRuntime[Context, Any],
        reason: Annotated[str | None, Field(description="One line on why.")] = None,
    ) -> Command[Any]:
        message = ToolMessage(
            f"Transferred to {agent}" + (f": {reason}" if reason else "."),
            tool_call_id=runtime.tool_call_id or "",
            name=handoff_tool_name(agent),
        )
        return Command(goto=agent, update={"messages": [message], "active_agent": agent})

    return handoff


def build_handoff_tools() -> dict[str, BaseTool]:
    return {handoff_tool_name(a): make_handoff_tool(a) for a in AGENT_NAMES}
