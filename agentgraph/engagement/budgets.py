"""The conductor's LLM spending limits: per clock hour and per UTC day.

`LLMBudget(hourly_usd, daily_usd, clock)` is asked `allows()` before every model
call and told `record(cost)` after it. Sums restart at each new hour and each new
UTC day of the injected clock. A limit of 0 allows no call. The check is made before
a call whose cost is only known after it, so one call may overshoot by its own cost.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from agentgraph.engagement.clock import Clock, SystemClock


class LLMBudget:
    """USD spent this hour and today against their limits."""

    def __init__(self, hourly_usd: float, daily_usd: float, clock: Clock | None = None) -> None:
        if hourly_usd < 0 or daily_usd < 0:
            raise ValueError("budgets must be >= 0")
        self.hourly_limit = float(hourly_usd)
        self.daily_limit = float(daily_usd)
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
        """True when a model call may be made now."""
        with self._lock:
            self._roll()
            return self._spent_hour < self.hourly_limit and self._spent_day < self.daily_limit

    def record(self, cost_usd: float) -> None:
        if not cost_usd > 0:
            return
        with self._lock:
            self._roll()
            self._spent_hour += cost_usd
            self._spent_day += cost_usd

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
