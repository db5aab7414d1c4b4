"""What a conductor run works with: settings, clock, draws, publisher, writer, event lock.

The graph's nodes are module-level functions, so what they depend on travels in the
run's context (`EngagementContext.deps`) instead of closures. `ConductorDeps.build()`
fills in what a caller leaves out the way one process alone wants it: organizer
messages and interventions to the log, the system clock, fresh random draws, an
in-memory LLM spend budget from the `ENGAGEMENT_LLM_*` settings, template content
when no model is given, and an in-process event lock. `EngagementService` builds its
own (its organizer feed and Redis channel, a spend ledger in Redis or the store,
Redis event locks with Redis) and passes them on every run.

`standalone_deps()` is what a run gets when its context carries none: LangGraph
Studio sends the context as a plain dict (`{"event_id": ..., "session_id": ...}`), so
`EngagementContext` defaults its `deps` to it. It is built once per process from
`agentgraph.config.get_settings()`, with the configured chat model when an LLM is
configured, so every such run shares one budget and one set of locks. The class
validates as an opaque instance (`__get_pydantic_core_schema__`) and the context
hides the field from its JSON schema: Studio never shows it nor asks for it.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings, get_settings
from agentgraph.engagement.conductor.content import ContentWriter
from agentgraph.engagement.delivery.publisher import LogPublisher, Publisher
from agentgraph.engagement.ownership import CycleOwnership
from agentgraph.models import build_chat_model
from agentgraph.models.budget import SpendBudget
from agentgraph.prompts import prompt_library

EventLock = Callable[[str], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, kw_only=True, eq=False)
class ConductorDeps:
    """The collaborators of the conductor's nodes (see the module docstring).

    `writer` carries the LLM spend budget (`writer.budget`); `event_lock(event_id)`
    serialises learning per event; `rng` gives the bandit's Thompson draws; `clock`
    is business time (decision ids' deadlines, executed_at, cooldowns).
    """

    settings: Settings
    publisher: Publisher
    writer: ContentWriter
    clock: Clock
    rng: random.Random
    event_lock: EventLock

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        publisher: Publisher | None = None,
        model: BaseChatModel | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        budget: SpendBudget | None = None,
        event_lock: EventLock | None = None,
    ) -> ConductorDeps:
        """Deps with single-process defaults for whatever is not given."""
        clock = clock or SYSTEM_CLOCK
        spend = budget or SpendBudget(
            hourly_usd=settings.engagement_llm_hourly_budget_usd,
            daily_usd=settings.engagement_llm_daily_budget_usd,
            clock=clock,
        )
        writer = ContentWriter(
            model,
            spend,
            default_price_per_mtok=settings.engagement_llm_default_price_usd_per_mtok,
            prompts=prompt_library(settings.prompts_dir),
        )
        return cls(
            settings=settings,
            publisher=publisher or LogPublisher(),
            writer=writer,
            clock=clock,
            rng=rng or random.Random(),
            event_lock=event_lock or CycleOwnership(None).event_lock,
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Validate as an opaque instance: pydantic never looks inside (Studio's schema)."""
        return core_schema.is_instance_schema(cls)


@functools.cache
def standalone_deps() -> ConductorDeps:
    """The process's deps for runs that bring none (Studio), built on first use."""
    settings = get_settings()
    model = build_chat_model(settings) if settings.llm_configured else None
    return ConductorDeps.build(settings, model=model)
