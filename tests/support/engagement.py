"""Conductors for tests: a real `EngagementService` on real stores, ticked by hand.

    async with conductor(settings, clock, seed=7) as service: ...      # own persistence
    async with hand_ticked(settings, persistence, clock, seed=3) as a: ...  # shared one

Both run no tick loop (the test advances `clock` and calls `service.tick()`); `seed`
seeds the conductor's random draws so its picks are repeatable.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.service import EngagementService, open_engagement
from agentgraph.persistence import Persistence, open_persistence


def hand_ticked(
    settings: Settings,
    persistence: Persistence,
    clock: ManualClock,
    *,
    seed: int | None = None,
    **options: Any,
) -> AbstractAsyncContextManager[EngagementService]:
    """A conductor on `persistence`, ticked by hand."""
    if seed is not None:
        options["rng"] = random.Random(seed)
    return open_engagement(
        settings,
        store=persistence.store,
        checkpointer=persistence.checkpointer,
        clock=clock,
        auto_tick=False,
        **options,
    )


@asynccontextmanager
async def conductor(
    settings: Settings, clock: ManualClock, *, seed: int = 7, **options: Any
) -> AsyncIterator[EngagementService]:
    """A conductor on its own persistence for `settings`, ticked by hand."""
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock, seed=seed, **options) as service,
    ):
        yield service
