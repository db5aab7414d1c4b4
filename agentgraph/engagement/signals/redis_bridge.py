"""Redis pub/sub for the conductor: signals in, executed interventions out.

`RedisBridge(url, on_message)`: `run()` subscribes to the pattern
`events:*:signals` and hands each message's event id and decoded payload to
`on_message`; when Redis goes away it logs, waits (0.2 s doubling to 5 s) and
reconnects, forever, until `stop()`. Meanwhile the collector keeps working on
WebSocket signals in-process. A payload is a JSON object with `session_id` and
either the signal fields or `signals: [...]`, or a list of such objects.
`publish_intervention(event_id, message)` publishes to
`events:{event_id}:interventions` and returns False (logged, never raised) when
Redis is unreachable. `connected` tells the health check how things stand.
No payload can stop the bridge: undecodable data is handed on as None, and an
exception from `on_message` is logged and counted as malformed; any other error
while listening is treated like a lost connection (log, wait, reconnect).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from agentgraph.engagement import telemetry
from agentgraph.engagement.signals.listener import ReconnectingListener

logger = logging.getLogger(__name__)

OnMessage = Callable[[str, Any], None]
SIGNALS_PATTERN = "events:*:signals"


def interventions_channel(event_id: str) -> str:
    """The Redis channel an event's executed interventions are published on."""
    return f"events:{event_id}:interventions"


class RedisBridge(ReconnectingListener):
    """One subscriber connection and one publishing client."""

    what = "Redis signal feed"

    def __init__(self, url: str, on_message: OnMessage) -> None:
        super().__init__()
        self.url = url
        self.on_message = on_message
        # A name per bridge, so operators (and tests) can tell its connections apart.
        self.client_name = f"agentgraph-engagement-{os.getpid()}-{id(self):x}"
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, client_name=self.client_name
        )

    def _lost(self) -> None:
        """Nothing more to count: `reconnects` and the health check show the outage."""

    async def run(self) -> None:
        """Listen for signals until `stop()`, reconnecting with backoff when Redis goes away."""
        await self._listen_until_stopped()

    async def _listen(self) -> None:
        pubsub = self.client.pubsub()
        try:
            await pubsub.psubscribe(SIGNALS_PATTERN)
            self.connected = True
            logger.info("Subscribed to Redis %s", SIGNALS_PATTERN)
            while not self._stopping.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is None or message.get("type") != "pmessage":
                    continue
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                parts = channel.split(":")
                if len(parts) != 3:
                    continue
                try:
                    payload = json.loads(message["data"])
                except (ValueError, TypeError, RecursionError):
                    payload = None
                try:
                    self.on_message(parts[1], payload)
                except Exception:
                    logger.exception("Redis signal message could not be handled")
                    telemetry.MALFORMED.labels("redis").inc()
        finally:
            self.connected = False
            with contextlib.suppress(RedisError, OSError):
                # redis-py types PubSub.aclose without annotations.
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def publish_intervention(self, event_id: str, message: dict[str, Any]) -> bool:
        """Publish an intervention; False (logged) when Redis is unreachable."""
        try:
            await self.client.publish(interventions_channel(event_id), json.dumps(message))
            return True
        except (RedisError, OSError) as exc:
            logger.warning("Could not publish an intervention to Redis (%s)", type(exc).__name__)
            return False

    async def ping(self) -> bool:
        """True when Redis answers."""
        return bool(await self.client.ping())

    def stop(self) -> None:
        """Ask `run()` to return."""
        self._stopping.set()

    async def aclose(self) -> None:
        """Stop and close the publishing client."""
        self.stop()
        await self.client.aclose()
