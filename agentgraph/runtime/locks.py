"""Per-conversation locks: one turn at a time for a thread, in this process or fleet-wide.

`LocalLocks.hold(thread_id)` serialises coroutines of one process (FIFO, so waiters
keep arrival order). `RedisLocks.hold(thread_id)` first takes the local lock, then a
Redis lock (`SET NX PX` with a random token, renewed every third of its TTL while
held, released only by its owner), so several processes never run the same thread
at once; a killed holder's lock expires after `ttl_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class ThreadLocks(Protocol):
    """What the channel needs from locks: `LocalLocks` or `RedisLocks`."""

    def hold(self, thread_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """`async with locks.hold(thread_id):` waits for the thread's lock and holds it for
        the block."""
        ...


class LocalLocks:
    """asyncio locks keyed by thread id, dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        """Hold the thread's lock for the block; waiters get it in arrival order."""
        lock = self._locks.setdefault(thread_id, asyncio.Lock())
        self._users[thread_id] = self._users.get(thread_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[thread_id] -= 1
            if self._users[thread_id] == 0:
                del self._users[thread_id]
                self._locks.pop(thread_id, None)


class RedisLocks:
    """Fleet-wide thread locks on Redis."""

    def __init__(self, redis: Any, *, prefix: str, ttl_seconds: float = 30.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = int(ttl_seconds * 1000)
        self._local = LocalLocks()
        # EVALSHA: the scripts' text is sent once, not with every release and renewal.
        self._release = redis.register_script(_RELEASE)
        self._renew_script = redis.register_script(_RENEW)

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        """Hold the thread's lock in this process, then in Redis, for the block. Waiting for
        Redis polls with backoff (5 ms up to 100 ms); while held the TTL is renewed, and on
        exit the Redis lock is deleted only if it still carries this holder's token."""
        key = f"{self._prefix}:lock:{thread_id}"
        token = secrets.token_hex(8)
        async with self._local.hold(thread_id):
            delay = 0.005
            while not await self._redis.set(key, token, nx=True, px=self._ttl_ms):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)
            renewer = asyncio.create_task(self._renew(key, token))
            try:
                yield
            finally:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
                await self._release(keys=[key], args=[token])

    async def _renew(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            await self._renew_script(keys=[key], args=[token, self._ttl_ms])
