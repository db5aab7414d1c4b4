"""Failed-login limits per account and per client address, answered with a wait time.

A login is refused before its password is checked while either its account (the
normalised email, known or not) or its client IP has reached its limit of failed
attempts in the current fixed window (`AGENTGRAPH_LOGIN_MAX_FAILURES`, default 5 per
account, and `AGENTGRAPH_LOGIN_MAX_FAILURES_PER_IP`, default 20 per address, per
`AGENTGRAPH_LOGIN_WINDOW_SECONDS`, default 900). `blocked` answers the seconds until
the window ends (the `Retry-After`), or None. A successful login clears its
account's count, not the address's. Windows are read from the injected clock.
`MemoryLoginLimiter` counts in this process; `RedisLoginLimiter` counts in Redis,
shared by every process (accounts appear there only as a hash of the email).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Protocol

from agentgraph.clock import Clock

__all__ = ["LoginLimiter", "MemoryLoginLimiter", "RedisLoginLimiter"]


class LoginLimiter(Protocol):
    """What the login needs from a limiter (see the module docstring)."""

    async def blocked(self, account: str, ip: str) -> int | None:
        """Seconds until a refused login may be tried again, or None when it may go on."""
        ...

    async def failed(self, account: str, ip: str) -> None:
        """Count one failed login for the account and the address."""
        ...

    async def succeeded(self, account: str) -> None:
        """Forget the account's failures."""
        ...


class _Windows:
    def __init__(self, clock: Clock, window_seconds: int, per_account: int, per_ip: int) -> None:
        self.clock = clock
        self.window_seconds = window_seconds
        self.per_account = per_account
        self.per_ip = per_ip

    def current(self) -> int:
        return int(self.clock.time() // self.window_seconds)

    def retry_after(self) -> int:
        end = (self.current() + 1) * self.window_seconds
        return max(1, math.ceil(end - self.clock.time()))


def _account_key(account: str) -> str:
    return hashlib.sha256(account.encode()).hexdigest()[:24]


class MemoryLoginLimiter(_Windows):
    """Counts in this process (lost on restart); past 100,000 counters, those of earlier
    windows are dropped."""

    def __init__(self, clock: Clock, *, window_seconds: int, per_account: int, per_ip: int):
        super().__init__(clock, window_seconds, per_account, per_ip)
        self._counts: dict[tuple[str, str, int], int] = {}

    async def blocked(self, account: str, ip: str) -> int | None:
        """See `LoginLimiter.blocked`."""
        window = self.current()
        if (
            self._counts.get(("a", _account_key(account), window), 0) >= self.per_account
            or self._counts.get(("i", ip, window), 0) >= self.per_ip
        ):
            return self.retry_after()
        return None

    async def failed(self, account: str, ip: str) -> None:
        """See `LoginLimiter.failed`."""
        window = self.current()
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if k[2] == window}
        for key in (("a", _account_key(account), window), ("i", ip, window)):
            self._counts[key] = self._counts.get(key, 0) + 1

    async def succeeded(self, account: str) -> None:
        """See `LoginLimiter.succeeded`."""
        self._counts.pop(("a", _account_key(account), self.current()), None)


class RedisLoginLimiter(_Windows):
    """Counts in Redis under `{prefix}:login:`, shared by every server process."""

    def __init__(
        self,
        redis: Any,
        clock: Clock,
        *,
        prefix: str,
        window_seconds: int,
        per_account: int,
        per_ip: int,
    ) -> None:
        super().__init__(clock, window_seconds, per_account, per_ip)
        self._redis = redis
        self._prefix = prefix

    def _keys(self, account: str, ip: str) -> tuple[str, str]:
        window = self.current()
        return (
            f"{self._prefix}:login:a:{_account_key(account)}:{window}",
            f"{self._prefix}:login:i:{ip}:{window}",
        )

    async def blocked(self, account: str, ip: str) -> int | None:
        """See `LoginLimiter.blocked`."""
        by_account, by_ip = await self._redis.mget(self._keys(account, ip))
        if int(by_account or 0) >= self.per_account or int(by_ip or 0) >= self.per_ip:
            return self.retry_after()
        return None

    async def failed(self, account: str, ip: str) -> None:
        """See `LoginLimiter.failed`: both counters and their expiries in one transaction."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(account, ip):
                pipe.incr(key)
                pipe.expire(key, 2 * self.window_seconds)
            await pipe.execute()

    async def succeeded(self, account: str) -> None:
        """See `LoginLimiter.succeeded`."""
        await self._redis.delete(self._keys(account, "")[0])
