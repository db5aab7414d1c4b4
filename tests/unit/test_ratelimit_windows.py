"""Rate-limit windows on a controlled clock.

`time.time` is replaced so each fixed window (UTC minute, UTC day) is crossed exactly;
the Redis limiter is run against a stand-in script to check the keys, expiries and
limits it sends (test_ratelimit_redis.py runs the real script on Redis).
"""

from __future__ import annotations

import pytest

from agentgraph.runtime import ratelimit
from agentgraph.runtime.ratelimit import (
    DAY_KEY_TTL,
    MINUTE_KEY_TTL,
    MemoryRateLimiter,
    RateDecision,
    RedisRateLimiter,
)

DAY = 86_400


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(10 * DAY)
    monkeypatch.setattr(ratelimit.time, "time", fake)
    return fake


async def hits(limiter, n, user="u"):
    return [await limiter.hit(user) for _ in range(n)]


async def test_the_minute_window_is_the_utc_minute(clock):
    limiter = MemoryRateLimiter(per_minute=2, per_day=100)
    clock.now = 10 * DAY + 59.9
    assert await hits(limiter, 3) == [
        RateDecision(True),
        RateDecision(True),
        RateDecision(False, "minute"),
    ]
    clock.now = 10 * DAY + 60.0
    assert await hits(limiter, 4) == [
        RateDecision(True),
        RateDecision(True),
        RateDecision(False, "minute"),
        RateDecision(False, None),
    ]


async def test_users_are_counted_apart(clock):
    limiter = MemoryRateLimiter(per_minute=1, per_day=100)
    assert (await limiter.hit("a"), await limiter.hit("b")) == (
        RateDecision(True),
        RateDecision(True),
    )
    assert await limiter.hit("a") == RateDecision(False, "minute")


async def test_the_day_window_is_the_utc_day_and_notifies_once(clock):
    limiter = MemoryRateLimiter(per_minute=100, per_day=2)
    clock.now = 11 * DAY - 1
    assert await hits(limiter, 4) == [
        RateDecision(True),
        RateDecision(True),
        RateDecision(False, "day"),
        RateDecision(False, None),
    ]
    clock.now = 11 * DAY
    assert await hits(limiter, 3) == [
        RateDecision(True),
        RateDecision(True),
        RateDecision(False, "day"),
    ]


async def test_only_answered_messages_use_up_the_day(clock):
    limiter = MemoryRateLimiter(per_minute=1, per_day=2)
    assert await hits(limiter, 3) == [
        RateDecision(True),
        RateDecision(False, "minute"),
        RateDecision(False, None),
    ]
    clock.now += 60
    # The day is judged first: once it is used up, its notice is the one sent.
    assert await hits(limiter, 2) == [RateDecision(True), RateDecision(False, "day")]
    clock.now += 60
    assert await hits(limiter, 1) == [RateDecision(False, None)]


async def test_counters_of_past_windows_are_dropped_past_a_hundred_thousand(clock):
    limiter = MemoryRateLimiter(per_minute=5, per_day=5)
    old = {(f"u{i}", "m", 1): 1 for i in range(100_000)}
    limiter._counts = dict(old)
    await limiter.hit("x")
    assert len(limiter._counts) == 100_002  # at the threshold nothing is dropped yet
    await limiter.hit("x")
    minute, day = int(clock.now // 60), int(clock.now // DAY)
    assert limiter._counts == {("x", "m", minute): 2, ("x", "d", day): 2}


class FakeScript:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    async def __call__(self, *, keys, args):
        self.calls.append((keys, args))
        return self.answer


class FakeRedis:
    def __init__(self, answer):
        self.script = FakeScript(answer)

    def register_script(self, source):
        assert "incr" in source
        return self.script


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ([2, 0], RateDecision(True)),
        ([1, 4], RateDecision(False, "minute")),
        ([1, 5], RateDecision(False, None)),
        ([1, 3], RateDecision(False, None)),
        ([0, 1], RateDecision(False, "day")),
        ([0, 2], RateDecision(False, None)),
    ],
)
async def test_the_redis_limiter_sends_its_windows_and_reads_the_outcome(clock, answer, decision):
    clock.now = 10 * DAY + 125.0
    redis = FakeRedis([str(v) for v in answer])
    limiter = RedisRateLimiter(redis, prefix="p", per_minute=3, per_day=7)
    assert await limiter.hit("u") == decision
    minute, day = (10 * DAY + 125) // 60, 10
    assert redis.script.calls == [
        ([f"p:rl:m:u:{minute}", f"p:rl:d:u:{day}", f"p:rl:r:u:{day}"], [120, 172_800, 3, 7])
    ]
    assert (MINUTE_KEY_TTL, DAY_KEY_TTL) == (120, 2 * DAY)


async def test_a_quota_of_one_answers_the_first_message_of_the_day(clock):
    limiter = MemoryRateLimiter(per_minute=5, per_day=1)
    assert await hits(limiter, 2) == [RateDecision(True), RateDecision(False, "day")]
