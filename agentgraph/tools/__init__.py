"""The assistant's tools, as one catalogue of module-level LangChain tools.

`TOOLS` holds every tool by name; which agent may call which is declared by each
agent spec in `agentgraph.agents`. Tools read identity from the run's context and
their services (domain, settings, clock, prompts) from the graph's tool node
(`agentgraph.tools.services`), never from model-written arguments. A tool's
metadata says what it does to money: `needs_confirmation` (pauses for an explicit
yes; at most one such call runs per model step) and `moves_money`.
"""

from __future__ import annotations

from langchain_core.tools import BaseTool

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

__all__ = ["CONFIRMED_TOOLS", "TOOLS", "ToolServices", "needs_confirmation", "with_services"]

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
