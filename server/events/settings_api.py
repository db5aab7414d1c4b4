"""`GET|PUT /v1/events/{event_id}/settings`: the conductor's per-event settings.

PUT is a partial update (fields not sent keep their value) validated by pydantic:
an unknown field, an unknown mode or intervention type, or an out-of-range number
answers 422 and changes nothing. Both answer the full settings after the call. PUT
requires the `ENGAGEMENT_API_TOKEN` when one is set (401 otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from agentgraph.engagement.conductor.event_settings import EventSettings, EventSettingsUpdate
from server.events.deps import EngagementDep, EventId, TokenDep


def _finite(value: Any) -> Any:
    """A JSON-safe copy: NaN and infinities (echoed back as `input`) become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class _FiniteErrorsRoute(APIRoute):
    """422 answers that stay valid JSON when the rejected body held NaN or Infinity."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse({"detail": _finite(list(exc.errors()))}, status_code=422)

        return route


router = APIRouter(route_class=_FiniteErrorsRoute)


@router.get("/v1/events/{event_id}/settings", response_model=EventSettings)
async def get_event_settings(event_id: EventId, service: EngagementDep) -> EventSettings:
    """The event's settings: what was stored for it over the configured defaults."""
    return await service.event_settings(event_id)


@router.put("/v1/events/{event_id}/settings", response_model=EventSettings, dependencies=[TokenDep])
async def put_event_settings(
    event_id: EventId, update: EventSettingsUpdate, service: EngagementDep
) -> EventSettings:
    """Change the fields sent with a value (`cooldowns` entries merge with the current
    ones), store the result and answer the full settings."""
    return await service.update_event_settings(event_id, update)
