"""The Redis rate limiter: shared counts, one notice per window, and a daily quota
that only answered messages use up."""

from __future__ import annotations

import redis.asyncio as aioredis

from agentgraph.runtime.ratelimit import RedisRateLimiter


async def test_a_refused_flood_does_not_use_up_the_day_across_processes(redis_url, redis_prefix):
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        one = RedisRateLimiter(client, prefix=redis_prefix, per_minute=2, per_day=3)
        two = RedisRateLimiter(client, prefix=redis_prefix, per_minute=2, per_day=3)
        flood = [await (one if n % 2 else two).hit("u") for n in range(10)]
        assert [d.allowed for d in flood] == [True, True] + [False] * 8
        assert [d.notify for d in flood] == [None, None, "minute"] + [None] * 7
        # The next minute: the day has 1 answer left, not 0.
        async for key in client.scan_iter(f"{redis_prefix}:rl:m:*"):
            await client.delete(key)
        later = [await one.hit("u") for _ in range(3)]
        assert [d.allowed for d in later] == [True, False, False]
        assert [d.notify for d in later] == [None, "day", None]
    finally:
        await client.aclose()
