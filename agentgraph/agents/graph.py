"""The assistant graph builder: start_turn -> active agent <-> tools, with handoffs.

`build_assistant_graph(model=..., domain=..., settings=...)` returns an *uncompiled*
`StateGraph`; callers compile it with their own checkpointer and store (the server
and CLI with the configured ones, tests with `InMemorySaver`, `graphs/assistant.py`
with none for LangGraph Studio). Every edge is declared, so Studio draws the graph.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from agentgraph.agents import booking, payment, support, triage
from agentgraph.agents.base import AgentSpec, make_agent_node
from agentgraph.agents.memory import make_start_turn
from agentgraph.agents.tool_node import make_tool_node
from agentgraph.config import Settings
from agentgraph.context import Context
from agentgraph.domain import Domain
from agentgraph.state import AGENT_NAMES, AgentName, AssistantInput, AssistantState
from agentgraph.tools import build_tools

SPECS: dict[AgentName, AgentSpec] = {
    s.name: s for s in (triage.SPEC, booking.SPEC, payment.SPEC, support.SPEC)
}

BUSINESS_NAMES = {"easymo": "easyMO", "acme": "Acme"}


def build_assistant_graph(
    *, model: BaseChatModel, domain: Domain, settings: Settings, business: str = "easyMO"
) -> StateGraph[AssistantState, Context, AssistantInput, AssistantState]:
    """The multi-agent assistant, uncompiled."""
    all_tools = build_tools(domain, settings)
    tools_by_agent = {name: [all_tools[t] for t in spec.tool_names] for name, spec in SPECS.items()}
    graph = StateGraph(AssistantState, context_schema=Context, input_schema=AssistantInput)
    graph.add_node(
        "start_turn", make_start_turn(settings.history_window), destinations=(*AGENT_NAMES, END)
    )
    for name, spec in SPECS.items():
        graph.add_node(
            name,
            make_agent_node(spec, model, tools_by_agent[name], business=business),
            destinations=("tools", END),
        )
    graph.add_node("tools", make_tool_node(tools_by_agent), destinations=AGENT_NAMES)
    graph.add_edge(START, "start_turn")
    return graph
