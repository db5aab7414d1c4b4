"""Fixtures that open a real assistant (real SQLite or Postgres) with demo data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from langchain_core.language_models import BaseChatModel

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.domain.seed import seed_demo
from agentgraph.runtime.assistant import Assistant, open_assistant


@pytest.fixture
def open_seeded() -> Callable[[Settings, BaseChatModel | None], object]:
    """`async with open_seeded(settings, model, clock=...) as assistant:` with demo data."""

    @asynccontextmanager
    async def _open(
        settings: Settings, model: BaseChatModel | None = None, *, clock: Clock = SYSTEM_CLOCK
    ) -> AsyncIterator[Assistant]:
        async with open_assistant(settings, model=model, clock=clock) as assistant:
            await seed_demo(assistant.persistence.domain)
            yield assistant

    return _open
