"""Support: help articles, tickets, SaaS account lookups and escalation to a human."""

from agentgraph.agents.base import AgentSpec
from agentgraph.agents.common import COMMON_TOOLS

SPEC = AgentSpec(
    name="support",
    prompt_file="support.md",
    tool_names=(
        "search_help_articles", "create_ticket", "ticket_status", "get_customer_info",
        "get_subscription_details", "list_invoices", *COMMON_TOOLS,
        "transfer_to_triage", "transfer_to_booking", "transfer_to_payment",
    ),
    description="Answers from the help centre, opens tickets, looks up accounts, escalates.",
)  # fmt: skip
