"""`WS /v1/events/{event_id}/sessions/{session_id}/signals`: attendee signals in.

Each text (or binary UTF-8) frame is one signal object or a list of them. Accepted
signals are recorded silently; a frame with problems gets one
`{"type": "error", "errors": [...]}` frame back (valid items of the same frame are
still recorded). Nothing a client sends closes the socket. Ids outside
`[A-Za-z0-9_-]{1,64}` are refused with close code 1008, and so is a connection
without the `ENGAGEMENT_API_TOKEN` when one is set (`?token=` or `Authorization:
Bearer`).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from agentgraph.engagement.conductor.event_settings import valid_id
from agentgraph.engagement.service import EngagementService
from server.events.deps import refuse_unauthorized

router = APIRouter()


@router.websocket("/v1/events/{event_id}/sessions/{session_id}/signals")
async def signals(websocket: WebSocket, event_id: str, session_id: str) -> None:
    """Record one attendee session's signal frames until the client disconnects."""
    if not (valid_id(event_id) and valid_id(session_id)):
        await websocket.close(code=1008, reason="invalid event or session id")
        return
    if await refuse_unauthorized(websocket):
        return
    service: EngagementService = websocket.app.state.engagement
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            problems = service.ingest_frame(event_id, session_id, raw)
            if problems:
                await websocket.send_json({"type": "error", "errors": problems})
    except WebSocketDisconnect:
        return
