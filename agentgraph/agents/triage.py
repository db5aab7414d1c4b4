"""Triage: understands what the user wants and hands off to a specialist.

It binds only handoff tools, so it cannot act on the user's data; greetings, thanks,
"help" and "menu" it answers itself.
"""

from agentgraph.agents.base import AgentSpec

SPEC = AgentSpec(
    name="triage",
    prompt_file="triage.md",
    tool_names=("transfer_to_booking", "transfer_to_payment", "transfer_to_support"),
    description="Routes each message to booking, payment or support; answers small talk.",
)
