"""Request dependencies: what a route may ask FastAPI to hand it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agentgraph.config import Settings
from agentgraph.runtime.assistant import Assistant


# Async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a thread
# hop per request that the webhook's acknowledgement latency pays for nothing.
async def get_settings(request: Request) -> Settings:
    """The app's `Settings`, set on `app.state` by `create_app`."""
    settings: Settings = request.app.state.settings
    return settings


async def get_assistant(request: Request) -> Assistant:
    """The process's `Assistant`, set on `app.state` once the lifespan has opened it."""
    assistant: Assistant = request.app.state.assistant
    return assistant


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
