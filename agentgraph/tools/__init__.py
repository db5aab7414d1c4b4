"""The assistant's tools, as one catalogue of module-level LangChain tools.

`TOOLS` holds every tool by name; which agent may call which is declared by each
agent spec in `agentgraph.agents`. Tools read identity from the run's context and
their services (domain, settings, clock, prompts) from the graph's tool node
(`agentgraph.tools.services`), never from model-written arguments. A tool's
metadata says what it does to money: `needs_confirmation` (pauses for an explicit
yes; at most one such call runs per model step) and `moves_money`. `tool_catalogue()`
lists the tools an agent may be given in the agent registry (handoffs are not among
them: who hands off to whom follows from which agents a tenant runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.tools import BaseTool

from agentgraph.handoff import handoff_destination
from agentgraph.tools.accounts import get_customer_info, get_subscription_details, list_invoices
from agentgraph.tools.booking import (
    cancel_booking,
    check_availability,
    create_booking,
    list_bookings,
    search_trips,
)
from agentgraph.tools.handoff import HANDOFF_TOOLS
from agentgraph.tools.profile import get_user_profile, update_preferences
from agentgraph.tools.services import ToolServices, with_services
from agentgraph.tools.support import (
    create_ticket,
    escalate_to_human,
    search_help_articles,
    ticket_status,
)
from agentgraph.tools.wallet import check_balance, transaction_history, transfer_money

__all__ = [
    "CONFIRMED_TOOLS",
    "TOOLS",
    "CatalogueEntry",
    "ToolServices",
    "needs_confirmation",
    "tool_catalogue",
    "with_services",
]

TOOLS: dict[str, BaseTool] = {
    t.name: t
    for t in (
        check_balance,
        transaction_history,
        transfer_money,
        search_trips,
        check_availability,
        create_booking,
        cancel_booking,
        list_bookings,
        search_help_articles,
        create_ticket,
        ticket_status,
        escalate_to_human,
        get_customer_info,
        get_subscription_details,
        list_invoices,
        get_user_profile,
        update_preferences,
        *HANDOFF_TOOLS.values(),
    )
}


def needs_confirmation(tool: BaseTool) -> bool:
    """True for a tool that pauses for the user's explicit yes before acting."""
    return bool((tool.metadata or {}).get("needs_confirmation"))


CONFIRMED_TOOLS = frozenset(name for name, t in TOOLS.items() if needs_confirmation(t))


@dataclass(frozen=True)
class CatalogueEntry:
    """One tool an agent may be given: its name, what it does, whether it moves money."""

    name: str
    description: str
    moves_money: bool
    needs_confirmation: bool


def tool_catalogue() -> list[CatalogueEntry]:
    """Every tool the agent registry may enable, by name (handoff tools excluded)."""
    return [
        CatalogueEntry(
            name=name,
            description=tool.description,
            moves_money=bool((tool.metadata or {}).get("moves_money")),
            needs_confirmation=needs_confirmation(tool),
        )
        for name, tool in sorted(TOOLS.items())
        if handoff_destination(tool) is None
    ]
