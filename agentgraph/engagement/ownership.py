"""Who runs a session's conductor cycle, and who may learn for an event, across processes.

With Redis every worker receives every signal (pattern subscription) and so sees
every anomaly; without coordination each would run its own cycle. `CycleOwnership`
gives each `(event, session)` one owner:

- `await claim(key)`: True when this process holds (or just took) the session's
  lease. With Redis the lease is `SET engagement:lease:{event}:{session} <owner> NX
  PX <lease_ms>`; without Redis it is an in-process set (one process owns all).
- `await renew()`: extends every lease this process holds (the service calls it each
  tick; a lease left unrenewed for `lease_seconds` passes to whichever worker claims
  the session next). `await release(key)` gives one back (only if still ours).
- `event_lock(event_id)`: an async context manager serialising read-modify-write of
  an event's shared records (bandit posteriors, the `learned` flag): a Redis lock
  when Redis is configured, an `asyncio.Lock` otherwise. Idle local locks are pruned
  with `prune(active_events)`.

A Redis error while claiming counts as "not ours" (no duplicate decisions while
Redis is away); the session's next anomaly tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator

import redis.asyncio as redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SessionKey = tuple[str, str]

# Extend or delete a lease only when it still names this owner.
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end"
)
_EVENT_LOCK_SECONDS = 10.0


def lease_key(key: SessionKey) -> str:
    """The Redis key of a session's lease."""
    return f"engagement:lease:{key[0]}:{key[1]}"


class CycleOwnership:
    """Leases on sessions and locks on events (see the module docstring)."""

    def __init__(self, client: redis.Redis | None, lease_seconds: float = 30.0) -> None:
        self.client = client
        self.lease_ms = max(1000, int(lease_seconds * 1000))
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.held: set[SessionKey] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    async def claim(self, key: SessionKey) -> bool:
        """True when this process holds (or just took) the session's lease."""
        if key in self.held and self.client is None:
            return True
        if self.client is None:
            self.held.add(key)
            return True
        try:
            if key in self.held:
                renewed = await self.client.eval(
                    _RENEW, 1, lease_key(key), self.owner, self.lease_ms
                )
                if renewed:
                    return True
            taken = await self.client.set(lease_key(key), self.owner, nx=True, px=self.lease_ms)
        except (RedisError, OSError) as exc:
            logger.warning("Could not claim %s/%s (%s)", *key, type(exc).__name__)
            return False
        if taken:
            self.held.add(key)
            return True
        self.held.discard(key)
        return False

    async def renew(self) -> None:
        """Extend every lease held; a lease another worker took is dropped."""
        if self.client is None:
            return
        keys = list(self.held)
        if not keys:
            return
        try:
            # One round trip for all of them, so a slow Redis costs a tick one timeout.
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.eval(_RENEW, 1, lease_key(key), self.owner, self.lease_ms)
                results = await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("Could not renew %d leases (%s)", len(keys), type(exc).__name__)
            return
        for key, ours in zip(keys, results, strict=True):
            if not ours:
                logger.warning("Lost the lease of %s/%s to another worker", *key)
                self.held.discard(key)

    async def release(self, key: SessionKey) -> None:
        """Give the session's lease back (only while it is still ours)."""
        self.held.discard(key)
        if self.client is None:
            return
        with contextlib.suppress(RedisError, OSError):
            await self.client.eval(_RELEASE, 1, lease_key(key), self.owner)

    @contextlib.asynccontextmanager
    async def event_lock(self, event_id: str) -> AsyncIterator[None]:
        """Hold the event's lock: Redis with Redis, else an in-process lock."""
        local = self._locks.setdefault(event_id, asyncio.Lock())
        async with local:
            if self.client is None:
                yield
                return
            lock = self.client.lock(
                f"engagement:event-lock:{event_id}",
                timeout=_EVENT_LOCK_SECONDS,
                blocking_timeout=_EVENT_LOCK_SECONDS,
            )
            async with lock:
                yield

    def prune(self, active_events: set[str]) -> None:
        """Forget local locks of events no longer active (and not held right now)."""
        for event_id in list(self._locks):
            if event_id not in active_events and not self._locks[event_id].locked():
                del self._locks[event_id]

    @property
    def lock_count(self) -> int:
        """The number of local event locks kept (tests watch it shrink)."""
        return len(self._locks)
