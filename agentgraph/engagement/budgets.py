"""The conductor's LLM spending limits: per clock hour and per UTC day.

`LLMBudget(hourly_usd, daily_usd, clock, ledger=None)` is asked `await aallows()`
before every model call and told `await arecord(cost)` after it. Sums are kept per
hour bucket (`YYYY-MM-DDTHH`) and per UTC day bucket of the injected clock, so they
restart with each new hour and day. With a `SpendLedger` the sums live outside the
process and survive restarts: `RedisSpend` (INCRBYFLOAT with a TTL, shared by every
worker) when `REDIS_URL` is set, `StoreSpend` (the LangGraph store) otherwise.
Without one (unit tests, Studio) they live in memory; the synchronous `allows()` /
`record()` read and write only that in-memory view. A limit of 0 allows no call. The
check is made before a call whose cost is only known after it, so one call may
overshoot by its own cost (one per worker when several call at once).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Protocol

import redis.asyncio as redis
from langgraph.store.base import BaseStore
from redis.exceptions import RedisError

from agentgraph.engagement.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

SPEND_NS = ("engagement", "llm_spend")
_TTL_SECONDS = {"hour": 2 * 3600, "day": 2 * 86_400}


class SpendLedger(Protocol):
    """Where spend per bucket is kept (`bucket` like `hour:2026-01-01T10`)."""

    async def add(self, bucket: str, amount: float, ttl_seconds: int) -> float: ...

    async def get(self, bucket: str) -> float: ...


class RedisSpend:
    """Spend in Redis keys `{prefix}:{bucket}`, expiring after `ttl_seconds`."""

    def __init__(self, client: redis.Redis, prefix: str = "engagement:llm_spend") -> None:
        self.client = client
        self.prefix = prefix

    async def add(self, bucket: str, amount: float, ttl_seconds: int) -> float:
        key = f"{self.prefix}:{bucket}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrbyfloat(key, amount)
            pipe.expire(key, ttl_seconds)
            total, _ = await pipe.execute()
        return float(total)

    async def get(self, bucket: str) -> float:
        value = await self.client.get(f"{self.prefix}:{bucket}")
        return float(value) if value is not None else 0.0


class StoreSpend:
    """Spend in the LangGraph store (one process owns it: no Redis, no other worker)."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store

    async def add(self, bucket: str, amount: float, ttl_seconds: int) -> float:
        total = await self.get(bucket) + amount
        await self.store.aput(SPEND_NS, bucket, {"usd": total})
        return total

    async def get(self, bucket: str) -> float:
        item = await self.store.aget(SPEND_NS, bucket)
        return float(item.value.get("usd", 0.0)) if item else 0.0


class LLMBudget:
    """USD spent this hour and today against their limits."""

    def __init__(
        self,
        hourly_usd: float,
        daily_usd: float,
        clock: Clock | None = None,
        ledger: SpendLedger | None = None,
    ) -> None:
        if hourly_usd < 0 or daily_usd < 0:
            raise ValueError("budgets must be >= 0")
        self.hourly_limit = float(hourly_usd)
        self.daily_limit = float(daily_usd)
        self.ledger = ledger
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._hour, self._day = self._buckets()
        self._spent_hour = 0.0
        self._spent_day = 0.0

    def _buckets(self) -> tuple[str, str]:
        now = datetime.fromtimestamp(self._clock.now(), UTC)
        return now.strftime("%Y-%m-%dT%H"), now.strftime("%Y-%m-%d")

    def _roll(self) -> None:
        hour, day = self._buckets()
        if hour != self._hour:
            self._hour, self._spent_hour = hour, 0.0
        if day != self._day:
            self._day, self._spent_day = day, 0.0

    def allows(self) -> bool:
        """True when a model call may be made now (in-memory view)."""
        with self._lock:
            self._roll()
            return self._spent_hour < self.hourly_limit and self._spent_day < self.daily_limit

    def record(self, cost_usd: float) -> None:
        """Add a cost to the in-memory view."""
        if not cost_usd > 0:
            return
        with self._lock:
            self._roll()
            self._spent_hour += cost_usd
            self._spent_day += cost_usd

    def _set(self, hour: str, day: str, spent_hour: float, spent_day: float) -> None:
        with self._lock:
            self._roll()
            if (self._hour, self._day) == (hour, day):
                self._spent_hour, self._spent_day = spent_hour, spent_day

    async def aallows(self) -> bool:
        """True when a model call may be made now, reading the shared ledger."""
        if self.ledger is not None:
            hour, day = self._buckets()
            try:
                spent_hour = await self.ledger.get(f"hour:{hour}")
                spent_day = await self.ledger.get(f"day:{day}")
            except (RedisError, OSError) as exc:
                logger.warning("LLM spend unreadable (%s)", type(exc).__name__)
            else:
                self._set(hour, day, spent_hour, spent_day)
        return self.allows()

    async def arecord(self, cost_usd: float) -> None:
        """Add a cost to the shared ledger (and the in-memory view)."""
        if not cost_usd > 0:
            return
        if self.ledger is None:
            self.record(cost_usd)
            return
        hour, day = self._buckets()
        try:
            spent_hour = await self.ledger.add(f"hour:{hour}", cost_usd, _TTL_SECONDS["hour"])
            spent_day = await self.ledger.add(f"day:{day}", cost_usd, _TTL_SECONDS["day"])
        except (RedisError, OSError) as exc:
            logger.warning("LLM spend not recorded in the ledger (%s)", type(exc).__name__)
            self.record(cost_usd)
            return
        self._set(hour, day, spent_hour, spent_day)

    @property
    def spent_hour(self) -> float:
        with self._lock:
            self._roll()
            return self._spent_hour

    @property
    def spent_day(self) -> float:
        with self._lock:
            self._roll()
            return self._spent_day
