"""The assistant's agents (triage, booking, payment, support) and the graph that joins them."""

from agentgraph.agents.graph import build_assistant_graph
from agentgraph.agents.specs import SPECS, AgentSpec

__all__ = ["SPECS", "AgentSpec", "build_assistant_graph"]
