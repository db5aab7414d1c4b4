"""LLM spending limits: one budget type, used by the assistant and the conductor.

`SpendBudget(daily_usd=..., hourly_usd=None, clock=..., ledger=None)` adds up the USD
cost of finished model calls per clock hour and per UTC day (buckets of the injected
`Clock`, so sums restart with each new hour and day) and says whether another call
may be made. A limit of 0 allows no call; `hourly_usd=None` sets no hourly limit.

- `allows()` / `record(cost)` read and write the in-memory view only: cheap, for a
  single process (the assistant's per-process daily budget).
- `await aallows()` / `await arecord(cost)` go through a `SpendLedger` when one is
  given, so the sums live outside the process and survive restarts: `RedisSpend`
  (INCRBYFLOAT with a TTL, shared by every worker) or `StoreSpend` (the LangGraph
  store). A ledger that cannot be read or written is logged and the in-memory view
  answers instead.

The check is made before a call whose cost is only known after it, so calls already
in flight when the limit is reached may overshoot it by their own cost. Every method
is safe to call from several threads and coroutines (the critical sections never
await or block). `shared_budget(limit)` is the one process-wide budget for a limit.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime
from typing import Protocol

from langgraph.store.base import BaseStore
from redis.asyncio import Redis
from redis.exceptions import RedisError

from agentgraph.clock import SYSTEM_CLOCK, Clock

__all__ = ["RedisSpend", "SpendBudget", "SpendLedger", "StoreSpend", "shared_budget"]

logger = logging.getLogger(__name__)

SPEND_NAMESPACE = ("llm_spend",)
_TTL_SECONDS = {"hour": 2 * 3600, "day": 2 * 86_400}


class SpendLedger(Protocol):
    """Where spend per bucket is kept (`bucket` like `hour:2026-01-01T10`)."""

    async def add(self, bucket: str, amount: float, ttl_seconds: int) -> float:
        """Add `amount` to `bucket` and return the bucket's new total."""
        ...

    async def get(self, bucket: str) -> float:
        """The bucket's total (0 when it was never written or has expired)."""
        ...


class RedisSpend:
    """Spend in Redis keys `{prefix}:{bucket}`, expiring after `ttl_seconds`."""

    def __init__(self, client: Redis, prefix: str = "engagement:llm_spend") -> None:
        self.client = client
        self.prefix = prefix

    async def add(self, bucket: str, amount: float, ttl_seconds: int) -> float:
        """INCRBYFLOAT and EXPIRE in one transaction."""
        key = f"{self.prefix}:{bucket}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrbyfloat(key, amount)
            pipe.expire(key, ttl_seconds)
            total, _ = await pipe.execute()
        return float(total)

    async def get(self, bucket: str) -> float:
        """The key's value, 0 when missing."""
        value = await self.client.get(f"{self.prefix}:{bucket}")
        return float(value) if value is not None else 0.0


class StoreSpend:
    """Spend in the LangGraph store (one process owns it: no Redis, no other worker)."""

    def __init__(self, store: BaseStore, namespace: tuple[str, ...] = SPEND_NAMESPACE) -> None:
        self.store = store
        self.namespace = namespace

    async def add(self, bucket: str, amount: float, ttl_seconds: int) -> float:
        """Read, add and write back (a single writer needs no transaction)."""
        total = await self.get(bucket) + amount
        await self.store.aput(self.namespace, bucket, {"usd": total})
        return total

    async def get(self, bucket: str) -> float:
        """The stored total, 0 when missing."""
        item = await self.store.aget(self.namespace, bucket)
        return float(item.value.get("usd", 0.0)) if item else 0.0


def _limit(value: float | None, name: str) -> float:
    if value is None:
        return math.inf
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0")
    return float(value)


class SpendBudget:
    """USD spent on the LLM this hour and today (UTC) against their limits."""

    def __init__(
        self,
        *,
        daily_usd: float | None,
        hourly_usd: float | None = None,
        clock: Clock = SYSTEM_CLOCK,
        ledger: SpendLedger | None = None,
    ) -> None:
        self.daily_limit = _limit(daily_usd, "daily_usd")
        self.hourly_limit = _limit(hourly_usd, "hourly_usd")
        self.ledger = ledger
        self._clock = clock
        self._lock = threading.Lock()
        self._hour, self._day = self._buckets()
        self._spent_hour = 0.0
        self._spent_day = 0.0
        self._warned_day: str | None = None

    def _buckets(self) -> tuple[str, str]:
        now = datetime.fromtimestamp(self._clock.time(), UTC)
        return now.strftime("%Y-%m-%dT%H"), now.strftime("%Y-%m-%d")

    def _roll(self) -> None:
        """Start new sums when the hour or the UTC day changed (lock held)."""
        hour, day = self._buckets()
        if hour != self._hour:
            self._hour, self._spent_hour = hour, 0.0
        if day != self._day:
            self._day, self._spent_day = day, 0.0

    def _allows_locked(self) -> bool:
        return self._spent_hour < self.hourly_limit and self._spent_day < self.daily_limit

    def allows(self) -> bool:
        """True when a model call may be made now (in-memory view)."""
        with self._lock:
            self._roll()
            return self._allows_locked()

    @property
    def exhausted(self) -> bool:
        """True when the LLM must not be called now (in-memory view)."""
        return not self.allows()

    def record(self, cost_usd: float) -> None:
        """Add the cost of one finished call to the in-memory view.

        Non-positive, NaN and infinite costs are ignored."""
        if not cost_usd > 0 or math.isinf(cost_usd):
            return
        with self._lock:
            self._roll()
            self._spent_hour += cost_usd
            self._spent_day += cost_usd
            self._warn_once_locked()

    def _warn_once_locked(self) -> None:
        if self._allows_locked() or self._warned_day == self._day:
            return
        self._warned_day = self._day
        logger.warning(
            "LLM budget reached: %.4f USD this hour (limit %s), %.4f USD today (limit %s); "
            "answering without the LLM until the period ends",
            self._spent_hour,
            self.hourly_limit,
            self._spent_day,
            self.daily_limit,
            extra={"llm_spent_usd": self._spent_day, "llm_budget_usd": self.daily_limit},
        )

    def _set(self, hour: str, day: str, spent_hour: float, spent_day: float) -> None:
        with self._lock:
            self._roll()
            if (self._hour, self._day) == (hour, day):
                self._spent_hour, self._spent_day = spent_hour, spent_day
                self._warn_once_locked()

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
        if not cost_usd > 0 or math.isinf(cost_usd):
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
        """USD recorded in the current clock hour."""
        with self._lock:
            self._roll()
            return self._spent_hour

    @property
    def spent_day(self) -> float:
        """USD recorded since the last UTC midnight."""
        with self._lock:
            self._roll()
            return self._spent_day

    @property
    def remaining_today(self) -> float:
        """USD left today before the daily limit is reached (never negative)."""
        with self._lock:
            self._roll()
            return max(self.daily_limit - self._spent_day, 0.0)


_shared: dict[float, SpendBudget] = {}
_shared_lock = threading.Lock()


def shared_budget(daily_limit_usd: float) -> SpendBudget:
    """The process-wide daily budget for this limit (created on first use, then
    reused), so every model built from the same settings draws on one daily sum."""
    key = float(daily_limit_usd)
    with _shared_lock:
        budget = _shared.get(key)
        if budget is None:
            budget = _shared[key] = SpendBudget(daily_usd=key)
        return budget
