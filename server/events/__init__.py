"""Live-event routes: signal ingest and organizer WebSockets, per-event settings.

`router` carries every route; `open_conductor(app, settings, persistence)` opens the
process's `EngagementService` on the assistant's store and checkpointer, puts it in
`app.state.engagement` and registers the `engagement` health check. The server's
lifespan wraps its serving phase in it. With `REDIS_URL` it also runs the process's
`OrganizerRelay` (`open_organizer_relay`, in `app.state.organizer_relay`, else None),
so organizers connected to any process see every process's feed and their verdicts
reach the process that holds the approval.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from agentgraph.config import Settings
from agentgraph.engagement.delivery.organizer_relay import OrganizerRelay
from agentgraph.engagement.service import EngagementService, open_engagement
from agentgraph.models import build_chat_model
from agentgraph.persistence import Persistence
from server.events import organizer, settings_api, signals

router = APIRouter(tags=["events"])
router.include_router(signals.router)
router.include_router(organizer.router)
router.include_router(settings_api.router)


@asynccontextmanager
async def open_conductor(
    app: FastAPI, settings: Settings, persistence: Persistence
) -> AsyncIterator[EngagementService]:
    """Run the conductor for the app's lifetime (content model only when configured)."""
    model = build_chat_model(settings) if settings.llm_configured else None
    async with (
        open_engagement(
            settings, store=persistence.store, checkpointer=persistence.checkpointer, model=model
        ) as service,
        open_organizer_relay(service) as relay,
    ):
        app.state.engagement = service
        app.state.organizer_relay = relay

        async def check() -> str:
            status = service.health()
            if relay is None:
                return status
            return f"{status}, organizer feed {'shared' if relay.connected else 'reconnecting'}"

        app.state.health_checks["engagement"] = check
        yield service


@asynccontextmanager
async def open_organizer_relay(service: EngagementService) -> AsyncIterator[OrganizerRelay | None]:
    """Share the service's organizer feed and verdicts over Redis while the block runs
    (None, and nothing shared, without Redis)."""
    if service.redis is None:
        yield None
        return
    collector = service.collector
    relay = OrganizerRelay(
        service.redis.client,
        service.hub,
        origin=service.ownership.owner,
        prefix=service.settings.redis_prefix,
        approvals=service.cycles,
        observes=lambda event_id, session_id: (
            collector.current_score(event_id, session_id) is not None
        ),
        store=service.store,
        clock=service.clock,
    )
    task = asyncio.create_task(relay.run(), name="organizer-relay")
    try:
        yield relay
    finally:
        relay.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
