"""`GET|PUT /v1/events/{event_id}/settings`: the conductor's per-event settings.

PUT is a partial update (fields not sent keep their value) validated by pydantic:
an unknown field, an unknown mode or intervention type, or an out-of-range number
answers 422 and changes nothing. Both answer the full settings after the call.
"""

from __future__ import annotations

from fastapi import APIRouter

from agentgraph.engagement.event_settings import EventSettings, EventSettingsUpdate
from server.events.deps import EngagementDep, EventId

router = APIRouter()


@router.get("/v1/events/{event_id}/settings", response_model=EventSettings)
async def get_event_settings(event_id: EventId, service: EngagementDep) -> EventSettings:
    return await service.event_settings(event_id)


@router.put("/v1/events/{event_id}/settings", response_model=EventSettings)
async def put_event_settings(
    event_id: EventId, update: EventSettingsUpdate, service: EngagementDep
) -> EventSettings:
    return await service.update_event_settings(event_id, update)
