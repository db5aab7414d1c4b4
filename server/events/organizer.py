"""`WS /v1/events/{event_id}/organizer`: the organizer's live feed and approvals.

Server -> organizer: JSON messages whose `type` is `score`, `anomaly`, `decision`
(with `reasoning` and `confidence`), `approval_request` (with `id` and `deadline`,
epoch seconds), `intervention` (executed, with `content`) or `outcome`. Approval
requests still open are sent again right after connecting.

Organizer -> server: `{"type": "approve" | "reject", "id": "<approval id>"}`,
answered with `{"type": "ack", "id", "accepted": bool}` (False when the id is
unknown, expired or already settled). With `REDIS_URL` the feed carries every
server process's messages for the event, open requests are those of every process,
and a verdict is settled by whichever process holds the approval
(`OrganizerRelay`). Anything else gets an `error` frame; the
socket stays open. Acks and errors go through the same bounded drop-oldest queue as
the feed, so a slow organizer never closes its own socket. With
`ENGAGEMENT_API_TOKEN` set, the socket needs it (`?token=` or `Authorization:
Bearer`); without it the socket is closed with 1008.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from agentgraph.engagement.conductor.event_settings import valid_id
from agentgraph.engagement.delivery.organizer_relay import OrganizerRelay
from agentgraph.engagement.service import EngagementService
from server.events.deps import refuse_unauthorized

router = APIRouter()


async def _forward(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(await queue.get())


@router.websocket("/v1/events/{event_id}/organizer")
async def organizer(websocket: WebSocket, event_id: str) -> None:
    """Feed one event's conductor messages to an organizer and take their approvals until
    either side closes; the frames are in the module docstring."""
    if not valid_id(event_id):
        await websocket.close(code=1008, reason="invalid event id")
        return
    if await refuse_unauthorized(websocket):
        return
    service: EngagementService = websocket.app.state.engagement
    relay: OrganizerRelay | None = getattr(websocket.app.state, "organizer_relay", None)
    await websocket.accept()
    queue = service.hub.subscribe(event_id)
    if relay is None:
        requests = service.pending_requests(event_id)
    else:
        requests = await relay.open_requests(event_id)
    for request in requests:
        service.hub.offer(queue, request)
    sender = asyncio.create_task(_forward(websocket, queue))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                body = json.loads(message.get("text") or message.get("bytes") or b"")
            except (ValueError, UnicodeDecodeError):
                body = None
            kind = body.get("type") if isinstance(body, dict) else None
            approval_id = body.get("id") if isinstance(body, dict) else None
            if kind not in ("approve", "reject") or not isinstance(approval_id, str):
                service.hub.offer(
                    queue,
                    {
                        "type": "error",
                        "errors": ['expected {"type": "approve"|"reject", "id": ...}'],
                    },
                )
                continue
            if relay is None:
                accepted = await service.resolve(event_id, approval_id, kind)
            else:
                accepted = await relay.settle(event_id, approval_id, kind)
            service.hub.offer(queue, {"type": "ack", "id": approval_id, "accepted": accepted})
    except WebSocketDisconnect:
        return
    finally:
        service.hub.unsubscribe(event_id, queue)
        sender.cancel()
