"""The FastAPI application: `create_app(settings)` wires persistence, model and routers.

The lifespan opens the assistant once per process (databases, pool, model, compiled
graph) and closes it on shutdown; routes reach it through `server.deps`. Routers are
grouped by resource under `server/`. Serve it with
`uvicorn --factory server.app:create_app` (settings from the environment).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel

from agentgraph.config import ConfigError, Settings, get_settings
from agentgraph.observability.logging import configure_logging
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import open_whatsapp_channel
from agentgraph.runtime.heap import settle_heap
from server import events as events_routes
from server import health, metrics
from server import whatsapp as whatsapp_routes


def create_app(settings: Settings | None = None, *, model: BaseChatModel | None = None) -> FastAPI:
    """Build the app; `model` overrides the configured chat model (tests)."""
    settings = settings or get_settings()
    if settings.production and settings.whatsapp_app_secret is None:
        raise ConfigError(
            "WHATSAPP_APP_SECRET: required in production mode (AGENTGRAPH_PRODUCTION)"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        async with open_assistant(settings, model=model) as assistant:
            app.state.assistant = assistant
            async with open_whatsapp_channel(
                settings, assistant, consume=settings.server_consumes_queue
            ) as channel:
                app.state.whatsapp = channel
                app.state.health_checks["queue"] = channel.check_queue
                if settings.redis_url:
                    app.state.health_checks["redis"] = channel.check_redis
                async with events_routes.open_conductor(app, settings, assistant.persistence):
                    settle_heap()
                    yield

    app = FastAPI(
        title="agentgraph",
        version="0.1.0",
        description="LangGraph agents for WhatsApp and live events.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.health_checks = {}
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(whatsapp_routes.router)
    app.include_router(events_routes.router)
    return app
