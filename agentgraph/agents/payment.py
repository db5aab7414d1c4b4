"""Payment: wallet balance, history and confirmed peer-to-peer transfers."""

from agentgraph.agents.base import AgentSpec
from agentgraph.agents.common import COMMON_TOOLS

SPEC = AgentSpec(
    name="payment",
    prompt_file="payment.md",
    tool_names=(
        "check_balance", "transaction_history", "transfer_money", *COMMON_TOOLS,
        "transfer_to_triage", "transfer_to_booking", "transfer_to_support",
    ),
    description="Shows balance and history; sends money after an explicit yes.",
)  # fmt: skip
