"""Injectable time for the engagement conductor.

Every engagement component reads time from a `Clock` (seconds as a float, like
`time.time()`), never from the system directly, so tests and benchmarks drive
windows, ticks, cooldowns, approval timeouts and outcome measurement in simulated
time. `SystemClock` is wall time; `ManualClock` only moves when told to.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in seconds since the epoch."""

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time (`time.time()`)."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """Simulated time: starts at `start` and moves only with `advance()` or `set()`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        if when < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = when
