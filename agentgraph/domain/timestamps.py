"""Stored timestamps: the conversions both database engines share.

Every timestamp the domain stores or returns is a timezone-aware `datetime` in UTC;
naive datetimes are rejected with `ValueError` because their meaning is ambiguous.
SQLite keeps timestamps as fixed-width ISO text (so text order is time order) and
Postgres as `timestamptz`; `as_datetime` and `as_date` turn either back into Python
values. The clock itself is `agentgraph.clock`.
"""

from __future__ import annotations

from datetime import date, datetime

from agentgraph.clock import Clock, require_aware

__all__ = [
    "CheckedClock",
    "as_date",
    "as_datetime",
    "as_optional_date",
    "as_optional_datetime",
    "require_aware",
    "to_db_text",
]


def to_db_text(value: datetime) -> str:
    """Fixed-width UTC ISO text, so that comparing strings compares instants."""
    return require_aware(value).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def as_datetime(value: datetime | str) -> datetime:
    """A stored timestamp (Postgres `datetime` or SQLite text) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return require_aware(value)


def as_optional_datetime(value: datetime | str | None) -> datetime | None:
    """`as_datetime` for a nullable column: None stays None."""
    return None if value is None else as_datetime(value)


def as_date(value: date | str) -> date:
    """A stored DATE (Postgres `date` or SQLite `YYYY-MM-DD` text) as a `date`."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.date()
    return value


def as_optional_date(value: date | str | None) -> date | None:
    """`as_date` for a nullable column: None stays None."""
    return None if value is None else as_date(value)


class CheckedClock:
    """A view of a `Clock` whose `now()` refuses naive datetimes (ValueError).

    The domain stores every time in UTC; a clock that returned a naive time would
    make stored rows ambiguous, so the domain reads time only through this view."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        """The wrapped clock's time in UTC; ValueError when it is naive."""
        return require_aware(self._clock.now())

    def time(self) -> float:
        """The wrapped clock's time in seconds since the epoch."""
        return self._clock.time()
