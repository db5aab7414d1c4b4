"""What the event routes may ask for: the process's engagement service, valid ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from agentgraph.engagement.service import EngagementService

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

EventId = Annotated[str, Path(pattern=ID_PATTERN, description="1-64 of A-Z a-z 0-9 _ -")]


def get_engagement(request: Request) -> EngagementService:
    service: EngagementService = request.app.state.engagement
    return service


EngagementDep = Annotated[EngagementService, Depends(get_engagement)]
