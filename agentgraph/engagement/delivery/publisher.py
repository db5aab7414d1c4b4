"""Where the conductor graph sends what it decides and does.

`Publisher.organizer(event_id, message)` feeds the organizer's stream (score,
anomaly, decision, approval_request, intervention, outcome messages);
`Publisher.intervention(event_id, message)` delivers an executed intervention to the
attendees' real-time service (Redis `events:{event_id}:interventions` in the server).
Both may raise; the graph records an intervention before delivering it, so a retried
run delivers it at most once more and carries the same `id` for consumers to dedup.
`LogPublisher` only logs (LangGraph Studio); `RecordingPublisher` keeps messages in
lists (tests, benchmarks).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

logger = logging.getLogger(__name__)

Message = dict[str, Any]


class Publisher(Protocol):
    async def organizer(self, event_id: str, message: Message) -> None: ...

    async def intervention(self, event_id: str, message: Message) -> None: ...


class LogPublisher:
    """Logs every message at INFO."""

    async def organizer(self, event_id: str, message: Message) -> None:
        logger.info("organizer %s: %s", event_id, message.get("type"))

    async def intervention(self, event_id: str, message: Message) -> None:
        logger.info("intervention %s: %s", event_id, message.get("intervention_type"))


class RecordingPublisher:
    """Keeps every message, in order."""

    def __init__(self) -> None:
        self.organizer_messages: list[tuple[str, Message]] = []
        self.interventions: list[tuple[str, Message]] = []

    async def organizer(self, event_id: str, message: Message) -> None:
        self.organizer_messages.append((event_id, message))

    async def intervention(self, event_id: str, message: Message) -> None:
        self.interventions.append((event_id, message))

    def of_type(self, kind: str) -> list[Message]:
        return [m for _, m in self.organizer_messages if m.get("type") == kind]
