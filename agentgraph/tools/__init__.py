"""LangChain tools grouped by domain, and which agent gets which.

`build_tools(domain, settings)` returns every tool by name, bound to one domain
backend. Which agent may call which tool is declared by each agent module in
`agentgraph.agents`. Tools that need the user's identity read it from the runtime
context, never from arguments.
"""

from __future__ import annotations

from langchain_core.tools import BaseTool

from agentgraph.config import Settings
from agentgraph.domain import Domain
from agentgraph.prompts import load_table
from agentgraph.tools.accounts import build_account_tools
from agentgraph.tools.booking import build_booking_tools
from agentgraph.tools.handoff import HANDOFF_PREFIX, build_handoff_tools, handoff_tool_name
from agentgraph.tools.profile import build_profile_tools
from agentgraph.tools.support import build_support_tools
from agentgraph.tools.wallet import build_wallet_tools

# Tools that pause for an explicit yes; at most one of them runs per model step.
CONFIRMED_TOOLS = frozenset({"transfer_money", "cancel_booking"})


def build_tools(domain: Domain, settings: Settings) -> dict[str, BaseTool]:
    """Every tool, by name."""
    # Load the confirmation vocabulary now, not inside the event loop on first use.
    load_table("confirmation.json")
    tools: list[BaseTool] = [
        *build_wallet_tools(domain, settings),
        *build_booking_tools(domain, settings),
        *build_support_tools(domain),
        *build_account_tools(domain),
        *build_profile_tools(domain),
    ]
    by_name = {t.name: t for t in tools}
    by_name.update(build_handoff_tools())
    return by_name


def is_handoff(tool_name: str) -> bool:
    return tool_name.startswith(HANDOFF_PREFIX)


__all__ = ["CONFIRMED_TOOLS", "build_tools", "handoff_tool_name", "is_handoff"]
