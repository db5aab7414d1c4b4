"""The assistant as a ready-to-use object: persistence + model + compiled graph + runner.

`open_assistant(settings)` is what the CLI and the server use: it opens the
configured databases, builds the chat model from settings (or takes one given, as
tests do), compiles the assistant graph with the durable checkpointer and store, and
yields an `Assistant` whose `send()` runs one turn for a user.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from agentgraph.agents import build_assistant_graph
from agentgraph.config import Settings
from agentgraph.context import Channel, Context
from agentgraph.domain.phones import normalize_phone
from agentgraph.models import build_chat_model
from agentgraph.persistence import Persistence, open_persistence
from agentgraph.runtime.turns import TurnResult, TurnRunner, chat_thread_id


@dataclass
class Assistant:
    """A compiled assistant bound to its persistence."""

    settings: Settings
    persistence: Persistence
    graph: CompiledStateGraph[Any, Any, Any, Any]
    runner: TurnRunner

    async def send(
        self,
        text: str,
        *,
        user: str,
        tenant: str | None = None,
        channel: Channel = "cli",
        thread_id: str | None = None,
        customer_email: str | None = None,
        staff: bool = False,
    ) -> TurnResult:
        """Run one turn for `user` (any phone format; normalised to E.164).

        `customer_email` is the caller's verified email (the only SaaS account they may
        look up); `staff=True` marks an operator console that may look up any customer.
        """
        phone = normalize_phone(user)
        tenant = tenant or self.settings.default_tenant
        context = Context(
            tenant_id=tenant,
            user_id=phone,
            channel=channel,
            customer_email=customer_email,
            staff=staff,
        )
        return await self.runner.send(thread_id or chat_thread_id(tenant, phone), text, context)


@asynccontextmanager
async def open_assistant(
    settings: Settings, *, model: BaseChatModel | None = None
) -> AsyncIterator[Assistant]:
    """Open databases, build the model and graph, and yield a ready Assistant."""
    async with open_persistence(settings) as persistence:
        chat_model = model or build_chat_model(settings)
        graph = build_assistant_graph(
            model=chat_model, domain=persistence.domain, settings=settings
        ).compile(checkpointer=persistence.checkpointer, store=persistence.store)
        runner = TurnRunner(
            graph,
            retention=settings.checkpoint_retention,
            durability=settings.durability,
            prune_every=settings.prune_every_turns,
        )
        yield Assistant(settings, persistence, graph, runner)
