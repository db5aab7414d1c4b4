"""Where the conductor graph sends what it decides and does.

`Publisher.organizer(event_id, message)` feeds the organizer's stream (score,
anomaly, decision, approval_request, intervention, outcome messages);
`Publisher.intervention(event_id, message)` delivers an executed intervention to the
attendees' real-time service (Redis `events:{event_id}:interventions` in the server).
Both may raise; the graph records an intervention before delivering it, so a retried
run delivers it at most once more and carries the same `id` for consumers to dedup.
`FeedPublisher` is the server's (organizer hub and Redis), `LogPublisher` only logs
(LangGraph Studio), `RecordingPublisher` keeps messages in lists (tests, benchmarks).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from agentgraph.engagement.delivery.organizer_hub import OrganizerHub

if TYPE_CHECKING:
    from agentgraph.engagement.signals.redis_bridge import RedisBridge

logger = logging.getLogger(__name__)

Message = dict[str, Any]


class Publisher(Protocol):
    """Where the graph sends organizer messages and executed interventions."""

    async def organizer(self, event_id: str, message: Message) -> None:
        """Send a message to the event's organizer feed."""
        ...

    async def intervention(self, event_id: str, message: Message) -> None:
        """Deliver an executed intervention to the event's attendees."""
        ...


class FeedPublisher:
    """The server's publisher: organizer messages to the process's organizer hub,
    interventions to Redis `events:{event_id}:interventions` when Redis is configured
    (without Redis no attendee channel exists, so nothing is sent)."""

    def __init__(self, hub: OrganizerHub, redis: RedisBridge | None) -> None:
        self.hub = hub
        self.redis = redis

    async def organizer(self, event_id: str, message: Message) -> None:
        """Publish to the event's connected organizers (never blocks)."""
        self.hub.publish(event_id, message)

    async def intervention(self, event_id: str, message: Message) -> None:
        """Publish to the event's Redis channel; a Redis failure is logged, not raised."""
        if self.redis is not None:
            await self.redis.publish_intervention(event_id, message)


class LogPublisher:
    """Logs every message at INFO."""

    async def organizer(self, event_id: str, message: Message) -> None:
        """Log the message type."""
        logger.info("organizer %s: %s", event_id, message.get("type"))

    async def intervention(self, event_id: str, message: Message) -> None:
        """Log the intervention type."""
        logger.info("intervention %s: %s", event_id, message.get("intervention_type"))


class RecordingPublisher:
    """Keeps every message, in order."""

    def __init__(self) -> None:
        self.organizer_messages: list[tuple[str, Message]] = []
        self.interventions: list[tuple[str, Message]] = []

    async def organizer(self, event_id: str, message: Message) -> None:
        """Keep the message."""
        self.organizer_messages.append((event_id, message))

    async def intervention(self, event_id: str, message: Message) -> None:
        """Keep the intervention."""
        self.interventions.append((event_id, message))

    def of_type(self, kind: str) -> list[Message]:
        """The organizer messages of one `type`, in order."""
        return [m for _, m in self.organizer_messages if m.get("type") == kind]
