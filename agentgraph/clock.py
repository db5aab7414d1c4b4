"""The one clock: every component reads time from an injected `Clock`, never the system.

A `Clock` answers `now()` (an aware `datetime` in UTC, for the domain, confirmations
and prompts) and `time()` (seconds since the epoch as a float, for the runtime's
queues and the engagement conductor's windows). Both views come from one source, so
a test that moves a `ManualClock` moves every reader at once: windows, ticks,
cooldowns, confirmation deadlines, money limits per day and spending budgets.
`SYSTEM_CLOCK` is wall time and the default everywhere. `KIGALI` is the business's
local time zone (UTC+2, no daylight saving): calendar days of trips, "tomorrow" and
how departures are shown.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = ["KIGALI", "SYSTEM_CLOCK", "Clock", "ManualClock", "SystemClock", "require_aware"]

KIGALI = timezone(timedelta(hours=2), "CAT")

DEFAULT_MANUAL_START = 1_700_000_000.0
"""Where a `ManualClock` starts when given no time (2023-11-14T22:13:20Z)."""


def require_aware(value: datetime) -> datetime:
    """`value` converted to UTC; raises ValueError for a naive datetime."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: the domain needs timezone-aware times")
    return value.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """A source of the current time, in two views of the same instant."""

    def now(self) -> datetime:
        """The current time as an aware datetime in UTC."""
        ...

    def time(self) -> float:
        """The current time in seconds since the epoch."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        """`datetime.now(UTC)`."""
        return datetime.now(UTC)

    def time(self) -> float:
        """`time.time()`."""
        return _time.time()


SYSTEM_CLOCK: Clock = SystemClock()


class ManualClock:
    """Simulated time: starts at `start` and moves only with `advance()` or `set()`."""

    def __init__(self, start: datetime | float = DEFAULT_MANUAL_START) -> None:
        self._now = _seconds(start)

    def now(self) -> datetime:
        """The simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, UTC)

    def time(self) -> float:
        """The simulated time in seconds since the epoch."""
        return self._now

    def advance(self, seconds: float | timedelta = 0.0, **delta: float) -> float:
        """Move forward by `seconds` (or by `timedelta(**delta)`); returns the new time.

        Raises ValueError for a negative step: a clock never goes backwards."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        step += timedelta(**delta).total_seconds()
        if step < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += step
        return self._now

    def set(self, when: datetime | float) -> None:
        """Jump to `when`; raises ValueError if that is in the clock's past."""
        target = _seconds(when)
        if target < self._now:
            raise ValueError("a clock cannot go backwards")
        self._now = target


def _seconds(value: datetime | float) -> float:
    if isinstance(value, datetime):
        return require_aware(value).timestamp()
    return float(value)
