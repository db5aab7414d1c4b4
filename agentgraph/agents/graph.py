"""The assistant graph builder: start_turn -> active agent <-> tools, with handoffs.

`build_assistant_graph(model=..., domain=..., settings=..., clock=...)` returns an
*uncompiled* `StateGraph`; callers compile it with their own checkpointer and store
(the server and CLI with the configured ones, tests with `InMemorySaver`,
`graphs/assistant.py` with none for LangGraph Studio). Every edge is declared, so
Studio draws the graph. Runs need a `Context` naming the tenant and the user. The
graph has a node per agent type it knows; which of them a tenant runs, with which
prompt, model options and tools, comes from the agent registry each turn
(`domain.agent_view`, through `agentgraph.agents.roster`).
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from agentgraph.agents.agent_node import make_agent_node
from agentgraph.agents.memory import make_start_turn
from agentgraph.agents.roster import Rosters
from agentgraph.agents.tool_node import make_tool_node
from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.context import Context
from agentgraph.domain import Domain
from agentgraph.state import AGENT_NAMES, AssistantInput, AssistantState
from agentgraph.tools import ToolServices

__all__ = ["build_assistant_graph"]


def build_assistant_graph(
    *, model: BaseChatModel, domain: Domain, settings: Settings, clock: Clock = SYSTEM_CLOCK
) -> StateGraph[AssistantState, Context, AssistantInput, AssistantState]:
    """The multi-agent assistant, uncompiled."""
    services = ToolServices(domain=domain, settings=settings, clock=clock)
    # Read the tables tools use now: file I/O inside the event loop would block runs.
    for table in ("confirmation.json", "intents.json"):
        services.prompts.table(table)
    rosters = Rosters(domain.agent_view, services.prompts)
    graph = StateGraph(AssistantState, context_schema=Context, input_schema=AssistantInput)
    graph.add_node(
        "start_turn", make_start_turn(settings.history_window), destinations=(*AGENT_NAMES, END)
    )
    for name in AGENT_NAMES:
        node = make_agent_node(name, model, rosters=rosters, domain=domain, clock=clock)
        destinations = ("tools", END) if name == "triage" else ("tools", "triage", END)
        graph.add_node(name, node, destinations=destinations)
    graph.add_node("tools", make_tool_node(rosters, services), destinations=AGENT_NAMES)
    graph.add_edge(START, "start_turn")
    return graph
