"""Booking: bus-trip search, availability, booking paid from the wallet, cancellation."""

from agentgraph.agents.base import AgentSpec
from agentgraph.agents.common import COMMON_TOOLS

SPEC = AgentSpec(
    name="booking",
    prompt_file="booking.md",
    tool_names=(
        "search_trips", "check_availability", "create_booking", "cancel_booking",
        "list_bookings", "check_balance", *COMMON_TOOLS,
        "transfer_to_triage", "transfer_to_payment", "transfer_to_support",
    ),
    description="Searches and books bus trips; cancels with confirmation.",
)  # fmt: skip
