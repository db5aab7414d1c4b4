"""The FastAPI application: `create_app(settings)` wires persistence, model and routers.

The lifespan starts OpenTelemetry export when an OTLP endpoint is configured (flushed
last on shutdown), opens the assistant once per process (databases, pool, model,
compiled graph) and closes it on shutdown; routes reach it through `server.deps`.
Routers are grouped by resource under `server/`. Serve it with
`uvicorn --factory server.app:create_app` (settings from the environment).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from starlette.types import Receive, Scope, Send

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import ConfigError, Settings, get_settings
from agentgraph.observability.logging import configure_logging
from agentgraph.observability.otel import open_otel
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import open_whatsapp_channel
from agentgraph.runtime.heap import ConnectionSweeper, settle_heap
from agentgraph.runtime.worker import consuming
from server import api as operator_api
from server import events as events_routes
from server import health, metrics
from server import whatsapp as whatsapp_routes

log = logging.getLogger(__name__)


class AgentgraphApp(FastAPI):
    """FastAPI, with `POST /webhooks/whatsapp` answered ahead of the middleware stack.

    Meta posts every message and status there, so it is most of the server's requests;
    skipping Starlette's middleware layers and route matching for it saves 50 to 70 µs
    of CPU per webhook (about a tenth of the request's cost). Middleware added to the
    app therefore does not see it. Every other request, and the webhook in any app
    that only includes the router, takes the normal path.

    `sweeper` counts finished WebSocket sessions and frees what they leave in
    reference cycles every few hundred (`agentgraph.runtime.heap.ConnectionSweeper`)."""

    sweeper: ConnectionSweeper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry: a POST to the webhook path goes straight to `webhook_asgi` (with
        `scope["app"]` set, as Starlette would); every other request takes FastAPI's path."""
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _route_path(scope) == whatsapp_routes.WEBHOOK_PATH
        ):
            scope["app"] = self
            await whatsapp_routes.webhook_asgi(scope, receive, send)
            return
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            # What a closed socket leaves in cycles is freed in batches (runtime/heap.py).
            self.sweeper.closed()


def _route_path(scope: Scope) -> str:
    # As Starlette routes: the path below the app's mount point (`root_path`).
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def create_app(
    settings: Settings | None = None,
    *,
    model: BaseChatModel | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> AgentgraphApp:
    """Build the app; `model` overrides the configured chat model and `clock` the time
    the domain, the channel and the operator API's tokens and login limits read (tests)."""
    settings = settings or get_settings()
    if settings.production and settings.whatsapp_app_secret is None:
        raise ConfigError(
            "WHATSAPP_APP_SECRET: required in production mode (AGENTGRAPH_PRODUCTION)"
        )
    if settings.production and settings.jwt_secret is None:
        # Then the event routes take an operator credential even without ENGAGEMENT_API_TOKEN.
        raise ConfigError(
            "AGENTGRAPH_JWT_SECRET: required in production mode (AGENTGRAPH_PRODUCTION); "
            "it signs operator tokens"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        if settings.whatsapp_app_secret is None:
            log.warning(
                "WHATSAPP_APP_SECRET is unset: POST /webhooks/whatsapp accepts unsigned "
                "notifications from anyone. Set it before the server is reachable from "
                "the internet (production mode refuses to start without it)."
            )
        async with (
            open_otel(settings),
            open_assistant(settings, model=model, clock=clock) as assistant,
        ):
            app.state.assistant = assistant
            async with open_whatsapp_channel(settings, assistant, clock=clock) as channel:
                workers: AbstractAsyncContextManager[None] = (
                    consuming(channel) if settings.server_consumes_queue else nullcontext()
                )
                async with workers:
                    app.state.whatsapp = channel
                    app.state.health_checks["queue"] = channel.check_queue
                    if settings.redis_url:
                        app.state.health_checks["redis"] = channel.check_redis
                    async with (
                        events_routes.open_conductor(app, settings, assistant.persistence),
                        operator_api.open_operator_api(
                            app, settings, assistant.persistence.domain, clock=clock
                        ),
                    ):
                        settle_heap()
                        yield

    app = AgentgraphApp(
        title="agentgraph",
        version="0.1.0",
        description="LangGraph agents for WhatsApp and live events.",
        lifespan=lifespan,
    )
    app.sweeper = ConnectionSweeper()
    app.state.settings = settings
    app.state.health_checks = {}
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(whatsapp_routes.router)
    app.include_router(events_routes.router)
    app.include_router(operator_api.router)
    return app
