"""A per-process daily LLM spending limit, shared by every model built in the process.

`CostBudget(daily_limit_usd)` adds up the USD cost recorded with `record(cost)` for
the current UTC day and reports `exhausted` once that sum reaches the limit; the sum
starts again from zero at UTC midnight (read from the injectable `clock`). A limit of
0 means exhausted from the start, so the LLM is never called. Every method is safe to
call from several threads and from coroutines (the critical sections never await or
block). The check happens before a call and the cost is known only after it, so calls
already in flight when the limit is reached may overshoot it by their own cost.
`shared_budget(limit)` returns the one process-wide budget for a limit value.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

__all__ = ["CostBudget", "shared_budget"]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CostBudget:
    """USD spent on the LLM today (UTC) against a daily limit."""

    def __init__(self, daily_limit_usd: float, clock: Clock = _utc_now) -> None:
        if math.isnan(daily_limit_usd) or daily_limit_usd < 0:
            raise ValueError("daily_limit_usd must be a number >= 0")
        self._limit = float(daily_limit_usd)
        self._clock = clock
        self._lock = threading.Lock()
        self._day = self._today()
        self._spent = 0.0
        self._warned = False

    @property
    def daily_limit_usd(self) -> float:
        return self._limit

    def _today(self) -> date:
        now = self._clock()
        if now.tzinfo is not None:
            now = now.astimezone(UTC)
        return now.date()

    def _roll_over(self) -> None:
        """Start a new day's sum when the UTC date changed (lock held)."""
        today = self._today()
        if today != self._day:
            self._day = today
            self._spent = 0.0
            self._warned = False

    def record(self, cost_usd: float) -> None:
        """Add the cost of one finished call; non-positive and NaN costs are ignored."""
        if not cost_usd > 0 or math.isinf(cost_usd):
            return
        with self._lock:
            self._roll_over()
            self._spent += cost_usd
            crossed = self._spent >= self._limit and not self._warned
            if crossed:
                self._warned = True
            spent = self._spent
        if crossed:
            logger.warning(
                "Daily LLM budget reached: %.4f of %.2f USD spent today (UTC); "
                "answering with the offline model until midnight UTC",
                spent,
                self._limit,
                extra={"llm_spent_usd": spent, "llm_budget_usd": self._limit},
            )

    @property
    def spent_today(self) -> float:
        """USD recorded since the last UTC midnight."""
        with self._lock:
            self._roll_over()
            return self._spent

    @property
    def remaining_today(self) -> float:
        """USD left before the limit is reached (never negative)."""
        with self._lock:
            self._roll_over()
            return max(self._limit - self._spent, 0.0)

    @property
    def exhausted(self) -> bool:
        """True when the LLM must not be called: limit 0, or today's spend reached it."""
        if self._limit <= 0:
            return True
        with self._lock:
            self._roll_over()
            return self._spent >= self._limit


_shared: dict[float, CostBudget] = {}
_shared_lock = threading.Lock()


def shared_budget(daily_limit_usd: float) -> CostBudget:
    """The process-wide budget for this limit (created on first use, then reused), so
    every model built from the same settings draws on one daily sum."""
    key = float(daily_limit_usd)
    with _shared_lock:
        budget = _shared.get(key)
        if budget is None:
            budget = _shared[key] = CostBudget(key)
        return budget
