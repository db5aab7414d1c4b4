"""Bus trips: a timetable of departures with seats and a price in RWF.

City names are matched case-insensitively and through the old names people still
use (Butare = Huye, Gisenyi = Rubavu, Ruhengeri = Musanze); trips store the
canonical name. `search` returns only departures after the domain clock's now,
earliest first; `day` is a calendar day in Kigali time. Searching a city the
tenant has no trips for raises `UnknownCity` listing the cities it does serve. A
trip is unique per (tenant, origin, destination, departure), so `add` is idempotent.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from agentgraph.clock import KIGALI, Clock
from agentgraph.domain.db import Database, Row, is_row_id
from agentgraph.domain.errors import TripNotFound, UnknownCity
from agentgraph.domain.models import Trip
from agentgraph.domain.profiles import check_tenant
from agentgraph.domain.timestamps import as_datetime, require_aware

CITIES = ("Kigali", "Huye", "Musanze", "Rubavu")
CITY_ALIASES = {"butare": "Huye", "gisenyi": "Rubavu", "ruhengeri": "Musanze"}
SEARCH_MAX = 50

TRIP_COLUMNS = "id, tenant, origin, destination, departure, seats_total, seats_available, price"


def normalize_city(name: str) -> str:
    """The canonical spelling of a city name (`  kigali ` -> `Kigali`, `butare` -> `Huye`);
    names it does not know are title-cased."""
    key = " ".join(str(name).split()).casefold()
    if key in CITY_ALIASES:
        return CITY_ALIASES[key]
    for city in CITIES:
        if city.casefold() == key:
            return city
    return " ".join(word.capitalize() for word in key.split())


def trip_from_row(row: Row) -> Trip:
    """A `Trip` from a row selected with `TRIP_COLUMNS`."""
    return Trip(
        id=int(row["id"]),
        tenant=row["tenant"],
        origin=row["origin"],
        destination=row["destination"],
        departure=as_datetime(row["departure"]),
        seats_total=int(row["seats_total"]),
        seats_available=int(row["seats_available"]),
        price=int(row["price"]),
    )


class Trips:
    """`domain.trips`: the bus timetable."""

    def __init__(self, db: Database, clock: Clock, *, local_tz: tzinfo = KIGALI) -> None:
        self._db = db
        self._clock = clock
        self._tz = local_tz

    async def cities(self, tenant: str) -> list[str]:
        """Every city the tenant has trips from or to, sorted."""
        rows = await self._db.fetchall(
            "SELECT origin AS city FROM trips WHERE tenant = ? "
            "UNION SELECT destination AS city FROM trips WHERE tenant = ?",
            [tenant, tenant],
        )
        return sorted(row["city"] for row in rows)

    async def search(
        self,
        tenant: str,
        origin: str,
        destination: str,
        day: date | None = None,
        *,
        limit: int = 20,
    ) -> list[Trip]:
        """Future departures from `origin` to `destination`, by time; only on `day`
        (Kigali calendar day) when given. At most `limit` (capped at 50)."""
        start_city, end_city = normalize_city(origin), normalize_city(destination)
        known = await self.cities(tenant)
        for asked, city in ((origin, start_city), (destination, end_city)):
            if city not in known:
                raise UnknownCity(str(asked).strip(), known)
        now = self._clock.now()
        lower, upper = now, None
        if day is not None:
            if isinstance(day, datetime):
                day = require_aware(day).astimezone(self._tz).date()
            day_start = datetime.combine(day, time(0), tzinfo=self._tz)
            lower, upper = max(now, day_start), day_start + timedelta(days=1)
        sql = (
            f"SELECT {TRIP_COLUMNS} FROM trips "
            "WHERE tenant = ? AND origin = ? AND destination = ? AND departure > ?"
        )
        params: list[object] = [tenant, start_city, end_city, lower]
        if upper is not None:
            sql += " AND departure < ?"
            params.append(upper)
        sql += " ORDER BY departure, id LIMIT ?"
        params.append(max(1, min(int(limit), SEARCH_MAX)))
        return [trip_from_row(row) for row in await self._db.fetchall(sql, params)]

    async def get(self, tenant: str, trip_id: int) -> Trip:
        """The trip (past or future); raises `TripNotFound`."""
        if not is_row_id(trip_id):
            raise TripNotFound(trip_id)
        row = await self._db.fetchone(
            f"SELECT {TRIP_COLUMNS} FROM trips WHERE tenant = ? AND id = ?", [tenant, trip_id]
        )
        if row is None:
            raise TripNotFound(trip_id)
        return trip_from_row(row)

    async def add(
        self,
        tenant: str,
        origin: str,
        destination: str,
        departure: datetime,
        *,
        seats: int,
        price: int,
    ) -> tuple[Trip, bool]:
        """Add a departure unless it already exists; returns the trip and whether it
        was created (an existing trip is returned unchanged)."""
        check_tenant(tenant)
        start_city, end_city = normalize_city(origin), normalize_city(destination)
        if start_city == end_city:
            raise ValueError("a trip needs two different cities")
        departure = require_aware(departure)
        inserted = await self._db.fetchone(
            "INSERT INTO trips (tenant, origin, destination, departure, seats_total, "
            "seats_available, price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant, origin, destination, departure) DO NOTHING RETURNING id",
            [tenant, start_city, end_city, departure, seats, seats, price, self._clock.now()],
        )
        row = await self._db.fetchone(
            f"SELECT {TRIP_COLUMNS} FROM trips "
            "WHERE tenant = ? AND origin = ? AND destination = ? AND departure = ?",
            [tenant, start_city, end_city, departure],
        )
        assert row is not None
        return trip_from_row(row), inserted is not None
