"""Live-event routes: signal ingest and organizer WebSockets, per-event settings.

`router` carries every route; `open_conductor(app, settings, persistence)` opens the
process's `EngagementService` on the assistant's store and checkpointer, puts it in
`app.state.engagement` and registers the `engagement` health check. The server's
lifespan wraps its serving phase in it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from agentgraph.config import Settings
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
    async with open_engagement(
        settings, store=persistence.store, checkpointer=persistence.checkpointer, model=model
    ) as service:
        app.state.engagement = service

        async def check() -> str:
            return service.health()

        app.state.health_checks["engagement"] = check
        yield service
