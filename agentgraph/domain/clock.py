"""Time for the domain layer: an injectable clock and the conversions both engines share.

Every timestamp the domain stores or returns is a timezone-aware `datetime` in UTC;
naive datetimes are rejected with `ValueError` because their meaning is ambiguous.
SQLite keeps timestamps as fixed-width ISO text (so text order is time order) and
Postgres as `timestamptz`; `as_datetime` and `as_date` turn either back into Python
values. `KIGALI` is the fixed UTC+2 zone (Rwanda has no daylight saving) used for
calendar days in trip search and the demo timetable. `ManualClock` lets tests set
and advance time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

Clock = Callable[[], datetime]

KIGALI = timezone(timedelta(hours=2), "CAT")


def utc_now() -> datetime:
    """The real clock: now, aware, in UTC."""
    return datetime.now(UTC)


def require_aware(value: datetime) -> datetime:
    """`value` converted to UTC; raises ValueError for a naive datetime."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: the domain needs timezone-aware times")
    return value.astimezone(UTC)


def to_db_text(value: datetime) -> str:
    """Fixed-width UTC ISO text, so that comparing strings compares instants."""
    return require_aware(value).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def as_datetime(value: datetime | str) -> datetime:
    """A stored timestamp (Postgres `datetime` or SQLite text) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return require_aware(value)


def as_optional_datetime(value: datetime | str | None) -> datetime | None:
    return None if value is None else as_datetime(value)


def as_date(value: date | str) -> date:
    """A stored DATE (Postgres `date` or SQLite `YYYY-MM-DD` text) as a `date`."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.date()
    return value


def as_optional_date(value: date | str | None) -> date | None:
    return None if value is None else as_date(value)


class ManualClock:
    """A clock that only moves when told to; call it like `utc_now`."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start)

    def __call__(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> None:
        self._now = require_aware(value)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by `delta` or by `timedelta(**kwargs)`; returns the new time."""
        self._now = self._now + (delta if delta is not None else timedelta(**kwargs))
        return self._now
