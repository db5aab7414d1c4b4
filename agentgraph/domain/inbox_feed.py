"""The inbox feed: changes to a tenant's inbox items, pushed to whoever watches.

`InboxFeed.publish(event)` announces one committed change (`{"event": "new" |
"claimed" | "unclaimed" | "message" | "replied" | "released", "item": {...}}`, the
item carrying its tenant). `subscribe(scope)` is an async context manager yielding a
queue of the events of one tenant (`scope=None`: every tenant, for a super admin).

Without Redis the feed is in-process. Once `share(redis, prefix)`d, every publish
goes to the Redis channel `{prefix}:{tenant}` and every subscription reads Redis
(one pub/sub connection each), so a WebSocket on one server process sees what an
operator did on another. A Redis failure on publish falls back to this process's
subscribers and never fails the committed change. A subscriber that falls more than
`QUEUE_SIZE` events behind loses the oldest ones (an inbox list re-read catches up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["InboxFeed"]

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000


def _offer(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(event)


class InboxFeed:
    """See the module docstring."""

    def __init__(self) -> None:
        self._local: list[tuple[str | None, asyncio.Queue[dict[str, Any]]]] = []
        self._redis: Any = None
        self._prefix = ""

    def share(self, redis: Any, prefix: str) -> None:
        """Publish and subscribe through Redis channels `{prefix}:{tenant}`."""
        self._redis, self._prefix = redis, prefix

    async def publish(self, event: dict[str, Any]) -> None:
        """Announce a committed change; never raises."""
        tenant = str(event["item"]["tenant"])
        if self._redis is not None:
            try:
                await self._redis.publish(f"{self._prefix}:{tenant}", json.dumps(event))
                return
            except Exception as exc:  # a Redis outage must not fail a committed change
                log.warning("inbox event not shared on Redis: %s", type(exc).__name__)
        self._deliver(event)

    def _deliver(self, event: dict[str, Any]) -> None:
        tenant = event["item"]["tenant"]
        for scope, queue in list(self._local):
            if scope is None or scope == tenant:
                _offer(queue, event)

    @asynccontextmanager
    async def subscribe(self, scope: str | None) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of the events of tenant `scope` (None: all) while the block runs."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        if self._redis is None:
            entry = (scope, queue)
            self._local.append(entry)
            try:
                yield queue
            finally:
                self._local.remove(entry)
            return
        pubsub = self._redis.pubsub()
        if scope is None:
            await pubsub.psubscribe(f"{self._prefix}:*")
        else:
            await pubsub.subscribe(f"{self._prefix}:{scope}")
        # Local delivery too: a publish that fell back (Redis failing) still reaches us.
        entry = (scope, queue)
        self._local.append(entry)
        reader = asyncio.create_task(self._read(pubsub, queue))
        try:
            yield queue
        finally:
            self._local.remove(entry)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _read(self, pubsub: Any, queue: asyncio.Queue[dict[str, Any]]) -> None:
        async for message in pubsub.listen():
            if message.get("type") not in ("message", "pmessage"):
                continue
            try:
                _offer(queue, json.loads(message["data"]))
            except (TypeError, ValueError):
                log.warning("ignored a malformed inbox event")
