"""The assistant as a ready-to-use object: persistence + model + compiled graph + runner.

`open_assistant(settings)` is what the CLI and the server use: it opens the
configured databases (Postgres when `DATABASE_URL` is set, else SQLite files under
`settings.data_dir`, or under `data_dir=` when given), builds the chat model from
settings (or takes one given, as tests do), compiles the assistant graph with the
durable checkpointer and store, and yields an `Assistant` whose `send()` runs one
turn for a user of a tenant. Where the data lives is logged at start-up and kept in
`assistant.persistence.location`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from agentgraph.agents import build_assistant_graph
from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings, load_settings
from agentgraph.context import Channel, Context
from agentgraph.domain.phones import normalize_phone
from agentgraph.faults import Faults
from agentgraph.models import build_chat_model
from agentgraph.observability.tracing import Tracing
from agentgraph.persistence import Persistence, open_persistence
from agentgraph.prompts import prompt_library
from agentgraph.runtime.turns import TurnResult, TurnRunner
from agentgraph.threads import conversation_thread_id

__all__ = ["Assistant", "open_assistant"]

log = logging.getLogger(__name__)


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
        tenant: str,
        channel: Channel = "cli",
        thread_id: str | None = None,
        customer_email: str | None = None,
        staff: bool = False,
        inputs: Sequence[str] = (),
    ) -> TurnResult:
        """Run one turn for `user` (any phone format; normalised to E.164) of `tenant`.

        The thread is the user's conversation on `channel` unless `thread_id` names
        one. `customer_email` is the caller's verified email (the only SaaS account
        they may look up); `staff=True` marks an operator console that may look up
        any customer. `inputs` are the channel's ids of the messages the text stands
        for (see `TurnRunner.send`): with them a redelivered or re-run turn is answered
        once and its money moves once."""
        phone = normalize_phone(user)
        context = Context(
            tenant_id=tenant,
            user_id=phone,
            channel=channel,
            customer_email=customer_email,
            staff=staff,
        )
        pseudonym = await self.persistence.domain.pseudonyms.of(tenant, phone)
        thread = thread_id or conversation_thread_id(channel, tenant, pseudonym)
        return await self.runner.send(thread, text, context, inputs=inputs, user=pseudonym)

    async def thread_id(self, channel: Channel, tenant: str, user: str) -> str:
        """The thread id of `user`'s (a phone number, any format) conversation with
        `tenant` on `channel`: it names the user by pseudonym, never by the number."""
        pseudonym = await self.persistence.domain.pseudonyms.of(tenant, normalize_phone(user))
        return conversation_thread_id(channel, tenant, pseudonym)


@asynccontextmanager
async def open_assistant(
    settings: Settings | None = None,
    *,
    data_dir: str | Path | None = None,
    model: BaseChatModel | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[Assistant]:
    """Open databases, build the model and graph, and yield a ready Assistant.

    `settings` defaults to the environment's; `data_dir` overrides where the embedded
    SQLite files live (ignored with `DATABASE_URL`)."""
    settings = settings or load_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    async with open_persistence(settings, clock=clock) as persistence:
        log.info("assistant data: %s", persistence.location)
        if not await persistence.domain.tenants.all():
            log.warning(
                "no tenants in %s: customers will see an empty business; run "
                "`agentgraph demo seed` there, or point AGENTGRAPH_DATA_DIR / DATABASE_URL "
                "at the data you meant",
                persistence.location,
            )
        chat_model = model or build_chat_model(settings)
        graph = build_assistant_graph(
            model=chat_model, domain=persistence.domain, settings=settings, clock=clock
        ).compile(checkpointer=persistence.checkpointer, store=persistence.store, name="assistant")
        runner = TurnRunner(
            graph,
            retention=settings.checkpoint_retention,
            durability=settings.durability,
            prune_every=settings.prune_every_turns,
            clock=clock,
            prompts=prompt_library(settings.prompts_dir),
            faults=Faults.from_settings(settings),
            tracing=Tracing.from_settings(settings),
        )
        try:
            yield Assistant(settings, persistence, graph, runner)
        finally:
            # Runs still buffered in the LangSmith client go out before the process ends.
            await runner.tracing.aflush()
