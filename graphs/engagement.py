"""LangGraph Studio / `langgraph dev` entry point for the engagement conductor graph.

Built once at import (prompts and templates are read here, never inside a run) and
compiled without a checkpointer: the dev server brings its own checkpointer and
store. Runs take an `EngagementInput` (one anomaly with aggregates) and the
`EngagementContext` (event and session ids); organizer messages go to the log.
"""

from agentgraph.agents.engagement import build_engagement_graph
from agentgraph.config import get_settings
from agentgraph.models import build_chat_model

settings = get_settings()

graph = build_engagement_graph(
    settings=settings,
    model=build_chat_model(settings) if settings.llm_configured else None,
).compile(name="engagement")
