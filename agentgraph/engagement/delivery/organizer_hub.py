"""In-process fan-out of organizer messages, one bounded queue per connected organizer.

`subscribe(event_id)` returns a queue that receives every message `publish()`ed for
that event from then on; `unsubscribe()` removes it. `publish()` never blocks or
awaits: when an organizer falls 1,000 messages behind, its oldest message is dropped
so a slow dashboard cannot hold up the conductor. `offer(queue, message)` is the same
drop-oldest put for one queue (the organizer route uses it for acks and errors).

With Redis an `OrganizerRelay` sets `forward`: `publish()` then also hands every
message to it (for the organizers of other processes), the relay hands theirs to
`deliver()` (this process's queues only), and `has_subscribers()` answers True, since
an organizer of the event may be connected to another process.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

QUEUE_SIZE = 1000


class OrganizerHub:
    """Per-event sets of organizer queues; publishing never blocks the conductor."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.forward: Callable[[str, dict[str, Any]], None] | None = None

    def subscribe(self, event_id: str) -> asyncio.Queue[dict[str, Any]]:
        """A new bounded queue receiving every message published for the event from now on."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues[event_id].add(queue)
        return queue

    def unsubscribe(self, event_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding the queue; the event is forgotten with its last queue."""
        queues = self._queues.get(event_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[event_id]

    def has_subscribers(self, event_id: str) -> bool:
        """True when an organizer of the event is connected (or may be, to another process)."""
        return self.forward is not None or bool(self._queues.get(event_id))

    def events(self) -> set[str]:
        """Events with at least one connected organizer."""
        return set(self._queues)

    @staticmethod
    def offer(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
        """Put without blocking, dropping the oldest message when the queue is full."""
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(message)

    def publish(self, event_id: str, message: dict[str, Any]) -> None:
        """Offer the message to every queue of the event (drop-oldest when full), and
        to `forward` when set."""
        self.deliver(event_id, message)
        if self.forward is not None:
            self.forward(event_id, message)

    def deliver(self, event_id: str, message: dict[str, Any]) -> None:
        """Offer the message to this process's queues of the event only."""
        for queue in self._queues.get(event_id, ()):
            self.offer(queue, message)
