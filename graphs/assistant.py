"""LangGraph Studio / `langgraph dev` entry point for the assistant graph.

The server calls `graph` for each run (and for schema requests); it opens the
configured domain database, builds the model from the environment and yields the
assistant compiled without a checkpointer (the dev server provides its own).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agentgraph.agents import build_assistant_graph
from agentgraph.config import get_settings
from agentgraph.domain import open_domain
from agentgraph.models import build_chat_model

# Read once at import: the dev server forbids blocking file reads inside runs.
settings = get_settings()


@asynccontextmanager
async def graph(config: RunnableConfig) -> AsyncIterator[CompiledStateGraph[Any, Any, Any, Any]]:
    """The assistant graph for one run of the LangGraph server."""
    async with open_domain(settings) as domain:
        yield build_assistant_graph(
            model=build_chat_model(settings), domain=domain, settings=settings
        ).compile(name="assistant")
