"""LangGraph Studio / `langgraph dev` entry point for the assistant graph.

The server calls `graph` for each run and for schema requests. The first call opens
the configured domain database (one pool or SQLite file for the process, migrated
once, kept open for the life of the dev server) and compiles the assistant without
a checkpointer (the dev server brings its own); later calls reuse both. Runs need
the context fields `tenant_id` and `user_id` (set them in Studio's assistant
context, e.g. `{"tenant_id": "easymo", "user_id": "+250788000001"}`).
"""

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agentgraph.agents import build_assistant_graph
from agentgraph.config import get_settings
from agentgraph.models import build_chat_model
from agentgraph.persistence import open_domain

# Read once at import: the dev server forbids blocking file reads inside runs.
settings = get_settings()

_compiled: CompiledStateGraph[Any, Any, Any, Any] | None = None
_lock = asyncio.Lock()
# Holds the domain open until the dev server's process ends.
_resources = AsyncExitStack()


async def graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The assistant graph, built on first use and shared by every run of this process."""
    global _compiled
    async with _lock:
        if _compiled is None:
            domain = await _resources.enter_async_context(open_domain(settings))
            _compiled = build_assistant_graph(
                model=build_chat_model(settings), domain=domain, settings=settings
            ).compile(name="assistant")
    return _compiled
