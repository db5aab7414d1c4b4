"""LangGraph Studio / `langgraph dev` entry point for the assistant graph.

The server calls `graph` for each run and for schema requests. The first call opens
the configured domain database (one connection or pool for the process, migrated
once) and compiles the assistant without a checkpointer (the dev server brings its
own); later calls reuse both.
"""

import asyncio
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agentgraph.agents import build_assistant_graph
from agentgraph.config import get_settings
from agentgraph.domain import Domain, sqlite_path
from agentgraph.models import build_chat_model

# Read once at import: the dev server forbids blocking file reads inside runs.
settings = get_settings()

_compiled: CompiledStateGraph[Any, Any, Any, Any] | None = None
_lock = asyncio.Lock()


async def graph(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The assistant graph, built on first use and shared by every run of this process."""
    global _compiled
    async with _lock:
        if _compiled is None:
            domain = await Domain.connect(
                settings.database_url or sqlite_path(settings),
                transfer_limit=settings.transfer_limit,
                daily_transfer_limit=settings.daily_transfer_limit,
            )
            await domain.migrate()
            _compiled = build_assistant_graph(
                model=build_chat_model(settings), domain=domain, settings=settings
            ).compile(name="assistant")
    return _compiled
