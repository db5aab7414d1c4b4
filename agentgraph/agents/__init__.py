"""The assistant's agents (triage, booking, payment, support) and the graph that joins them."""

from agentgraph.agents.graph import SPECS, build_assistant_graph

__all__ = ["SPECS", "build_assistant_graph"]
