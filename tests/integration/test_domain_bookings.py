"""Trips and bookings on both engines: search, paying, seat accounting, refunds once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from agentgraph.clock import KIGALI, ManualClock
from agentgraph.domain import (
    AlreadyCancelled,
    Booking,
    BookingNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidSeats,
    NotEnoughSeats,
    TripDeparted,
    TripNotFound,
    UnknownCity,
)
from agentgraph.domain.db import ConstraintViolation
from agentgraph.persistence import open_domain

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # 10:00 in Kigali
T = "easymo"
ALICE, BOB = "+250788000001", "+250788000002"


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
async def domain(any_settings, clock):
    async with open_domain(any_settings, clock=clock) as opened:
        yield opened


async def fund(domain, phone, amount):
    await domain.profiles.get_or_create(T, phone)
    await domain.wallets.credit(T, phone, amount, f"fund:{phone}", "test")


async def add_trip(domain, origin="Kigali", destination="Huye", hours=24, seats=3, price=2_500):
    trip, created = await domain.trips.add(
        T, origin, destination, START + timedelta(hours=hours), seats=seats, price=price
    )
    assert created
    return trip


async def seats_left(domain, trip_id):
    return (await domain.trips.get(T, trip_id)).seats_available


async def test_search_matches_cities_loosely_and_returns_future_trips_in_order(domain, clock):
    late = await add_trip(domain, hours=30)
    early = await add_trip(domain, hours=3)
    await add_trip(domain, hours=-1)  # already departed
    await add_trip(domain, origin="Huye", destination="Kigali", hours=5)
    found = await domain.trips.search(T, " KIGALI", "butare")
    assert [t.id for t in found] == [early.id, late.id]
    assert (found[0].origin, found[0].destination, found[0].seats_available) == (
        "Kigali",
        "Huye",
        3,
    )
    clock.advance(hours=4)
    assert [t.id for t in await domain.trips.search(T, "kigali", "huye")] == [late.id]
    assert await domain.trips.search(T, "Kigali", "Kigali") == []


async def test_search_by_day_uses_kigali_calendar_days(domain):
    # 23:30 UTC on 10 March is 01:30 on 11 March in Kigali.
    night = await add_trip(domain, hours=15.5)
    morning = await add_trip(domain, hours=4)
    on_11th = await domain.trips.search(T, "Kigali", "Huye", date(2025, 3, 11))
    assert [t.id for t in on_11th] == [night.id]
    assert night.local_departure().date() == date(2025, 3, 11)
    assert night.local_departure(KIGALI).hour == 1
    on_10th = await domain.trips.search(T, "Kigali", "Huye", date(2025, 3, 10))
    assert [t.id for t in on_10th] == [morning.id]
    assert await domain.trips.search(T, "Kigali", "Huye", date(2025, 3, 9)) == []


async def test_search_for_unserved_city_names_the_served_ones(domain):
    await add_trip(domain)
    with pytest.raises(UnknownCity) as info:
        await domain.trips.search(T, "Nyanza", "Kigali")
    assert info.value.known == ["Huye", "Kigali"]
    assert "Huye, Kigali" in info.value.user_message


async def test_trip_get_and_add_are_idempotent(domain):
    trip = await add_trip(domain)
    again, created = await domain.trips.add(T, "kigali", "HUYE", trip.departure, seats=99, price=1)
    assert not created and again == trip
    with pytest.raises(TripNotFound):
        await domain.trips.get(T, 9_999)
    with pytest.raises(TripNotFound):
        await domain.trips.get("acme", trip.id)


async def test_booking_pays_from_wallet_and_takes_seats(domain):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    booking = await domain.bookings.create(T, "0788000001", trip.id, 2, "book-1")
    assert isinstance(booking, Booking)
    assert (booking.status, booking.seats, booking.amount, booking.replayed) == (
        "confirmed",
        2,
        5_000,
        False,
    )
    assert (booking.origin, booking.destination, booking.departure) == (
        "Kigali",
        "Huye",
        trip.departure,
    )
    assert await domain.wallets.balance(T, ALICE) == 5_000
    assert await seats_left(domain, trip.id) == 1
    history = await domain.wallets.history(T, ALICE, limit=1)
    assert (history[0].kind, history[0].amount) == ("booking", -5_000)
    assert [b.id for b in await domain.bookings.list_for(T, ALICE)] == [booking.id]
    assert await domain.bookings.list_for(T, BOB) == []


async def test_booking_replay_charges_once(domain):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    first = await domain.bookings.create(T, ALICE, trip.id, 1, "book-1")
    second = await domain.bookings.create(T, ALICE, trip.id, 1, "book-1")
    assert second.replayed and second.id == first.id
    assert await domain.wallets.balance(T, ALICE) == 7_500
    assert await seats_left(domain, trip.id) == 2
    with pytest.raises(IdempotencyConflict):
        await domain.bookings.create(T, ALICE, trip.id, 2, "book-1")


async def test_booking_failures_change_nothing(domain, clock):
    await fund(domain, ALICE, 4_000)
    trip = await add_trip(domain, seats=3, price=2_500)
    with pytest.raises(NotEnoughSeats) as info:
        await domain.bookings.create(T, ALICE, trip.id, 4, "b1")
    assert info.value.available == 3
    with pytest.raises(InsufficientFunds):
        await domain.bookings.create(T, ALICE, trip.id, 2, "b2")
    with pytest.raises(TripNotFound):
        await domain.bookings.create(T, ALICE, 12_345, 1, "b3")
    with pytest.raises(InvalidSeats):
        await domain.bookings.create(T, ALICE, trip.id, 0, "b4")
    clock.advance(hours=25)
    with pytest.raises(TripDeparted):
        await domain.bookings.create(T, ALICE, trip.id, 1, "b5")
    assert await domain.wallets.balance(T, ALICE) == 4_000
    assert await seats_left(domain, trip.id) == 3
    assert await domain.bookings.list_for(T, ALICE, include_cancelled=True) == []


async def test_cancel_refunds_exactly_once_and_restores_seats(domain):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    booking = await domain.bookings.create(T, ALICE, trip.id, 2, "book-1")
    cancelled = await domain.bookings.cancel(T, ALICE, booking.id, "cancel-1")
    assert (cancelled.status, cancelled.cancelled_at, cancelled.replayed) == (
        "cancelled",
        START,
        False,
    )
    assert await domain.wallets.balance(T, ALICE) == 10_000
    assert await seats_left(domain, trip.id) == 3
    replay = await domain.bookings.cancel(T, ALICE, booking.id, "cancel-1")
    assert replay.replayed and replay.status == "cancelled"
    with pytest.raises(AlreadyCancelled):
        await domain.bookings.cancel(T, ALICE, booking.id, "cancel-2")
    assert await domain.wallets.balance(T, ALICE) == 10_000
    assert await seats_left(domain, trip.id) == 3
    refunds = await domain.db.fetchval("SELECT COUNT(*) FROM transfers WHERE kind = 'refund'")
    assert int(refunds) == 1
    assert await domain.bookings.list_for(T, ALICE) == []
    listed = await domain.bookings.list_for(T, ALICE, include_cancelled=True)
    assert [(b.id, b.status) for b in listed] == [(booking.id, "cancelled")]


async def test_cancel_only_own_future_bookings(domain, clock):
    await fund(domain, ALICE, 10_000)
    await fund(domain, BOB, 10_000)
    trip = await add_trip(domain)
    booking = await domain.bookings.create(T, ALICE, trip.id, 1, "book-1")
    other = await domain.bookings.create(T, BOB, trip.id, 1, "book-2")
    with pytest.raises(BookingNotFound):
        await domain.bookings.cancel(T, BOB, booking.id, "c1")
    with pytest.raises(BookingNotFound):
        await domain.bookings.cancel(T, ALICE, 777, "c2")
    await domain.bookings.cancel(T, BOB, other.id, "c3")
    with pytest.raises(IdempotencyConflict):
        await domain.bookings.cancel(T, ALICE, booking.id, "c3")
    clock.advance(hours=24)
    with pytest.raises(TripDeparted):
        await domain.bookings.cancel(T, ALICE, booking.id, "c4")
    assert (await domain.bookings.get(T, ALICE, booking.id)).status == "confirmed"
    assert await domain.wallets.balance(T, ALICE) == 7_500


async def test_last_seat_race_sells_it_once(any_settings, domain):
    await fund(domain, ALICE, 10_000)
    await fund(domain, BOB, 10_000)
    trip = await add_trip(domain, seats=1)
    async with open_domain(any_settings, clock=ManualClock(START)) as second:
        results = await asyncio.gather(
            domain.bookings.create(T, ALICE, trip.id, 1, "a"),
            second.bookings.create(T, BOB, trip.id, 1, "b"),
            return_exceptions=True,
        )
    assert sorted(type(r).__name__ for r in results) == ["Booking", "NotEnoughSeats"]
    assert await seats_left(domain, trip.id) == 0
    total = await domain.wallets.balance(T, ALICE) + await domain.wallets.balance(T, BOB)
    assert total == 20_000 - 2_500


async def test_database_refuses_negative_user_balance_and_seats(domain):
    await domain.profiles.get_or_create(T, ALICE)
    trip = await add_trip(domain)
    with pytest.raises(ConstraintViolation) as info:
        await domain.db.execute("UPDATE wallets SET balance = -1 WHERE phone = ?", [ALICE])
    assert "wallets_balance_nonnegative" in info.value.detail
    with pytest.raises(ConstraintViolation):
        await domain.db.execute("UPDATE trips SET seats_available = -1 WHERE id = ?", [trip.id])
