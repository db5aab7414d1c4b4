"""LangGraph Studio / `langgraph dev` entry point for the engagement conductor graph.

Compiled without a checkpointer: the dev server brings its own checkpointer and
store. Runs take an `EngagementInput` (one anomaly with aggregates; an empty one is
refused) and the `EngagementContext` as a plain dict (event and session ids). Such a
context carries no dependencies, so runs get the process's standalone ones
(`agentgraph.engagement.conductor.deps.standalone_deps`: organizer messages to the
log, system clock, in-memory LLM budget, the configured content model if any). They
are built here at import, so prompts and templates are read once, never inside a run.
"""

from agentgraph.engagement.conductor.deps import standalone_deps
from agentgraph.engagement.conductor.graph import build_engagement_graph

standalone_deps()

graph = build_engagement_graph().compile(name="engagement")
