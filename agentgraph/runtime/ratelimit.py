"""Per-user message limits per minute and per UTC day, answered with one notice.

`hit(user)` counts one inbound message and returns a `RateDecision`: allowed, or
refused with `notify` set only for the first refused message of a window ("minute"
or "day"), so a user who keeps sending gets one polite notice, not one per message.
Every message counts against the minute; only answered messages count against the
day, so a burst the minute limit refuses does not use up the user's daily quota.
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
        """Count one message from `user` and decide on it (see the module docstring)."""
        ...


# What the counting step found: the day was already used up (with how many refusals
# so far), the minute is over its limit (with its count), or the message is answered.
_DAY_REFUSED, _MINUTE_REFUSED, _ANSWERED = 0, 1, 2


def _decide(outcome: int, count: int, per_minute: int) -> RateDecision:
    if outcome == _DAY_REFUSED:
        return RateDecision(False, "day" if count == 1 else None)
    if outcome == _MINUTE_REFUSED:
        return RateDecision(False, "minute" if count == per_minute + 1 else None)
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
        if self._counts.get((user, "d", day), 0) >= self.per_day:
            r = self._counts[(user, "r", day)] = self._counts.get((user, "r", day), 0) + 1
            return _decide(_DAY_REFUSED, r, self.per_minute)
        if m > self.per_minute:
            return _decide(_MINUTE_REFUSED, m, self.per_minute)
        self._counts[(user, "d", day)] = self._counts.get((user, "d", day), 0) + 1
        return _decide(_ANSWERED, 0, self.per_minute)


# The counting step, atomically: the minute always counts; a used-up day counts a
# refusal (for the one notice); otherwise the day counts only an answered message.
_HIT = """
local m = redis.call('incr', KEYS[1])
redis.call('expire', KEYS[1], ARGV[1])
local d = tonumber(redis.call('get', KEYS[2]) or '0')
if d >= tonumber(ARGV[4]) then
  local r = redis.call('incr', KEYS[3])
  redis.call('expire', KEYS[3], ARGV[2])
  return {0, r}
end
if m > tonumber(ARGV[3]) then
  return {1, m}
end
redis.call('incr', KEYS[2])
redis.call('expire', KEYS[2], ARGV[2])
return {2, 0}
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
        day = int(now // 86400)
        day_key = f"{self._prefix}:rl:d:{user}:{day}"
        refused_key = f"{self._prefix}:rl:r:{user}:{day}"
        outcome, count = await self._hit(
            keys=[minute_key, day_key, refused_key],
            args=[MINUTE_KEY_TTL, DAY_KEY_TTL, self.per_minute, self.per_day],
        )
        return _decide(int(outcome), int(count), self.per_minute)
