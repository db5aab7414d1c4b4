"""Per-user message limits per minute and per UTC day, answered with one notice.

`hit(user)` counts one inbound message and returns a `RateDecision`: allowed, or
refused with `notify` set only for the first refused message of a window ("minute"
or "day"), so a user who keeps sending gets one polite notice, not one per message.
`MemoryRateLimiter` counts in this process (single-process servers);
`RedisRateLimiter` counts in Redis with expiring fixed-window keys, shared by every
process (one server-side script per hit: both counters and their expiries in one
atomic command).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Window = Literal["minute", "day"]


@dataclass(frozen=True)
class RateDecision:
    """Whether one message may be answered; when refused, `notify` names the window whose
    notice to send, set only on that window's first refusal."""

    allowed: bool
    notify: Window | None = None


class RateLimiter(Protocol):
    """What the channel needs from a limiter: `MemoryRateLimiter` or `RedisRateLimiter`."""

    async def hit(self, user: str) -> RateDecision:
        """Count one message from `user` and decide on it; refused messages count too."""
        ...


def _decide(minute_count: int, day_count: int, per_minute: int, per_day: int) -> RateDecision:
    if day_count > per_day:
        return RateDecision(False, "day" if day_count == per_day + 1 else None)
    if minute_count > per_minute:
        return RateDecision(False, "minute" if minute_count == per_minute + 1 else None)
    return RateDecision(True)


class MemoryRateLimiter:
    """Fixed windows counted in this process (lost on restart)."""

    def __init__(self, *, per_minute: int, per_day: int) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self._counts: dict[tuple[str, str, int], int] = {}

    async def hit(self, user: str) -> RateDecision:
        """Count and decide in this process, on fixed UTC minutes and days. Past 100,000
        counters, those of earlier windows are dropped."""
        now = time.time()
        minute, day = int(now // 60), int(now // 86400)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if k[2] in (minute, day)}
        m = self._counts[(user, "m", minute)] = self._counts.get((user, "m", minute), 0) + 1
        d = self._counts[(user, "d", day)] = self._counts.get((user, "d", day), 0) + 1
        return _decide(m, d, self.per_minute, self.per_day)


# INCR and EXPIRE of both windows, atomically (as MULTI/EXEC did, in one command).
_HIT = """
local m = redis.call('incr', KEYS[1])
redis.call('expire', KEYS[1], ARGV[1])
local d = redis.call('incr', KEYS[2])
redis.call('expire', KEYS[2], ARGV[2])
return {m, d}
"""
MINUTE_KEY_TTL = 120
DAY_KEY_TTL = 2 * 86400


class RedisRateLimiter:
    """Fixed windows counted in Redis, shared by every process."""

    def __init__(self, redis: Any, *, prefix: str, per_minute: int, per_day: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self.per_minute = per_minute
        self.per_day = per_day
        self._hit = redis.register_script(_HIT)

    async def hit(self, user: str) -> RateDecision:
        """Count and decide in Redis: both counters and their expiries change in one atomic
        script, so concurrent processes never lose a count."""
        now = time.time()
        minute_key = f"{self._prefix}:rl:m:{user}:{int(now // 60)}"
        day_key = f"{self._prefix}:rl:d:{user}:{int(now // 86400)}"
        m, d = await self._hit(keys=[minute_key, day_key], args=[MINUTE_KEY_TTL, DAY_KEY_TTL])
        return _decide(int(m), int(d), self.per_minute, self.per_day)
