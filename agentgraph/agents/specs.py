"""Who the assistant's agents are: each one's prompt file, tools and handoffs.

Triage binds only handoffs, so it cannot act on the user's data; greetings, thanks,
"help" and "menu" it answers itself. Each specialist binds its own tools, the tools
every specialist shares (the user's own profile and the way to a human), and
handoffs to the other agents.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentgraph.state import AgentName

__all__ = ["SPECS", "AgentSpec"]

COMMON_TOOLS: tuple[str, ...] = ("get_user_profile", "update_preferences", "escalate_to_human")


@dataclass(frozen=True)
class AgentSpec:
    """What makes one agent: its name, prompt file, tools and handoff destinations."""

    name: AgentName
    prompt_file: str
    tool_names: tuple[str, ...]
    handoffs: tuple[AgentName, ...]
    description: str


SPECS: dict[AgentName, AgentSpec] = {
    spec.name: spec
    for spec in (
        AgentSpec(
            name="triage",
            prompt_file="triage.md",
            tool_names=(),
            handoffs=("booking", "payment", "support"),
            description="Routes each message to booking, payment or support; answers small talk.",
        ),
        AgentSpec(
            name="booking",
            prompt_file="booking.md",
            tool_names=(
                "search_trips", "check_availability", "create_booking", "cancel_booking",
                "list_bookings", "check_balance", *COMMON_TOOLS,
            ),
            handoffs=("triage", "payment", "support"),
            description="Searches and books bus trips; cancels with confirmation.",
        ),
        AgentSpec(
            name="payment",
            prompt_file="payment.md",
            tool_names=("check_balance", "transaction_history", "transfer_money", *COMMON_TOOLS),
            handoffs=("triage", "booking", "support"),
            description="Shows balance and history; sends money after an explicit yes.",
        ),
        AgentSpec(
            name="support",
            prompt_file="support.md",
            tool_names=(
                "search_help_articles", "create_ticket", "ticket_status", "get_customer_info",
                "get_subscription_details", "list_invoices", *COMMON_TOOLS,
            ),
            handoffs=("triage", "booking", "payment"),
            description="Answers from the help centre, opens tickets, looks up accounts.",
        ),
    )
}  # fmt: skip
