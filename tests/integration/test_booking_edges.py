"""Booking rules at their edges: the last seat, the exact fare, the departure minute,
free trips, replays read back by key, and a create that races its twin.

SQLite only; test_domain_bookings.py runs the main flows on both engines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentgraph.clock import ManualClock
from agentgraph.domain import (
    AlreadyCancelled,
    BookingNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidSeats,
    NotEnoughSeats,
    TripDeparted,
    TripNotFound,
)
from agentgraph.domain.bookings import MAX_SEATS_PER_BOOKING, payment_key, refund_key
from agentgraph.domain.db import ConstraintViolation
from agentgraph.persistence import open_domain

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
T = "easymo"
ALICE, BOB = "+250788000001", "+250788000002"


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
async def domain(sqlite_settings, clock):
    async with open_domain(sqlite_settings, clock=clock) as opened:
        yield opened


async def fund(domain, phone, amount):
    await domain.profiles.get_or_create(T, phone)
    if amount:
        await domain.wallets.credit(T, phone, amount, f"fund:{phone}:{amount}", None)


async def add_trip(domain, *, hours=24, seats=3, price=2_500, destination="Huye"):
    trip, _ = await domain.trips.add(
        T, "Kigali", destination, START + timedelta(hours=hours), seats=seats, price=price
    )
    return trip


async def seats_left(domain, trip_id):
    return (await domain.trips.get(T, trip_id)).seats_available


async def transfers(domain, kind):
    rows = await domain.db.fetchall(
        "SELECT idempotency_key, source, target, amount FROM transfers WHERE kind = ? ORDER BY id",
        [kind],
    )
    return [(r["idempotency_key"], r["source"], r["target"], int(r["amount"])) for r in rows]


async def test_seats_are_whole_numbers_from_one_to_ten(domain):
    await fund(domain, ALICE, 100_000)
    trip = await add_trip(domain, seats=20, price=100)
    assert MAX_SEATS_PER_BOOKING == 10
    for bad in (0, -1, 11, True, 1.0, "2", None):
        with pytest.raises(InvalidSeats):
            await domain.bookings.create(T, ALICE, trip.id, bad, f"bad-{bad!r}")
    ten = await domain.bookings.create(T, ALICE, trip.id, 10, "ten")
    one = await domain.bookings.create(T, ALICE, trip.id, 1, "one")
    assert (ten.seats, ten.amount, one.seats, one.amount) == (10, 1_000, 1, 100)
    assert await seats_left(domain, trip.id) == 9


@pytest.mark.parametrize("trip_id", [0, -1, "3", True, 10**30])
async def test_a_malformed_trip_id_is_not_found(domain, trip_id):
    await fund(domain, ALICE, 1_000)
    with pytest.raises(TripNotFound):
        await domain.bookings.create(T, ALICE, trip_id, 1, "k")


async def test_the_last_seats_and_the_exact_fare_can_be_booked(domain):
    await fund(domain, ALICE, 7_500)
    trip = await add_trip(domain, seats=3, price=2_500)
    booking = await domain.bookings.create(T, ALICE, trip.id, 3, "all")
    assert booking.amount == 7_500
    assert await domain.wallets.balance(T, ALICE) == 0
    assert await seats_left(domain, trip.id) == 0
    with pytest.raises(NotEnoughSeats) as info:
        await domain.bookings.create(T, ALICE, trip.id, 1, "more")
    assert (info.value.requested, info.value.available) == (1, 0)
    assert await transfers(domain, "booking") == [
        (payment_key(booking.id), ALICE, "system:treasury", 7_500)
    ]


async def test_one_franc_short_is_refused_with_both_amounts(domain):
    await fund(domain, ALICE, 4_999)
    trip = await add_trip(domain, price=2_500)
    with pytest.raises(InsufficientFunds) as info:
        await domain.bookings.create(T, ALICE, trip.id, 2, "k")
    assert (info.value.balance, info.value.needed) == (4_999, 5_000)
    assert await seats_left(domain, trip.id) == 3


async def test_a_trip_departing_now_can_be_neither_booked_nor_cancelled(domain, clock):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain, hours=1)
    clock.set(START + timedelta(minutes=59, seconds=59))
    booking = await domain.bookings.create(T, ALICE, trip.id, 1, "just-in-time")
    clock.set(START + timedelta(hours=1))
    with pytest.raises(TripDeparted) as info:
        await domain.bookings.create(T, ALICE, trip.id, 1, "late")
    assert info.value.trip_id == trip.id
    with pytest.raises(TripDeparted):
        await domain.bookings.cancel(T, ALICE, booking.id, "cancel")
    assert (await domain.bookings.get(T, ALICE, booking.id)).status == "confirmed"


async def test_a_cancel_replayed_after_departure_is_still_answered(domain, clock):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain, hours=1)
    booking = await domain.bookings.create(T, ALICE, trip.id, 2, "b")
    await domain.bookings.cancel(T, ALICE, booking.id, "c")
    clock.set(START + timedelta(hours=2))
    again = await domain.bookings.cancel(T, ALICE, booking.id, "c")
    assert (again.id, again.status, again.replayed, again.cancelled_at) == (
        booking.id,
        "cancelled",
        True,
        START,
    )


async def test_a_free_trip_moves_no_money_either_way(domain):
    await fund(domain, ALICE, 0)
    trip = await add_trip(domain, price=0)
    booking = await domain.bookings.create(T, ALICE, trip.id, 2, "free")
    assert (booking.amount, booking.status) == (0, "confirmed")
    cancelled = await domain.bookings.cancel(T, ALICE, booking.id, "c")
    assert cancelled.status == "cancelled"
    assert await transfers(domain, "booking") == []
    assert await transfers(domain, "refund") == []
    assert await seats_left(domain, trip.id) == 3


async def test_a_cancel_refunds_the_fare_under_the_bookings_own_key(domain):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain, seats=5, price=1_500)
    booking = await domain.bookings.create(T, ALICE, trip.id, 3, "b")
    assert await seats_left(domain, trip.id) == 2
    await domain.bookings.cancel(T, ALICE, booking.id, "c")
    assert await seats_left(domain, trip.id) == 5
    assert await domain.wallets.balance(T, ALICE) == 10_000
    assert await transfers(domain, "refund") == [
        (refund_key(booking.id), "system:treasury", ALICE, 4_500)
    ]
    assert refund_key(booking.id) == f"booking:{booking.id}:refund"
    assert payment_key(booking.id) == f"booking:{booking.id}:payment"


async def test_bookings_are_read_back_by_their_keys(domain):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    booking = await domain.bookings.create(T, ALICE, trip.id, 1, "make")
    created = await domain.bookings.created_with(T, "make")
    assert created is not None
    assert (created.id, created.status, created.replayed) == (booking.id, "confirmed", True)
    assert await domain.bookings.cancelled_with(T, "make") is None
    assert await domain.bookings.created_with(T, "nothing") is None
    await domain.bookings.cancel(T, ALICE, booking.id, "undo")
    cancelled = await domain.bookings.cancelled_with(T, "undo")
    assert cancelled is not None
    assert (cancelled.id, cancelled.status, cancelled.replayed) == (booking.id, "cancelled", True)
    assert await domain.bookings.cancelled_with(T, "nothing") is None


async def test_a_replayed_create_must_match_phone_trip_and_seats(domain):
    await fund(domain, ALICE, 20_000)
    await fund(domain, BOB, 20_000)
    trip = await add_trip(domain, seats=5)
    other = await add_trip(domain, hours=48)
    await domain.bookings.create(T, ALICE, trip.id, 2, "k")
    for phone, trip_id, seats in ((BOB, trip.id, 2), (ALICE, other.id, 2), (ALICE, trip.id, 1)):
        with pytest.raises(IdempotencyConflict):
            await domain.bookings.create(T, phone, trip_id, seats, "k")
    assert await seats_left(domain, trip.id) == 3


async def test_bookings_are_listed_by_departure_and_only_to_their_owner(domain):
    await fund(domain, ALICE, 20_000)
    later = await add_trip(domain, hours=48)
    sooner = await add_trip(domain, hours=24, destination="Musanze")
    second = await domain.bookings.create(T, ALICE, later.id, 1, "a")
    first = await domain.bookings.create(T, ALICE, sooner.id, 1, "b")
    assert [b.id for b in await domain.bookings.list_for(T, ALICE)] == [first.id, second.id]
    assert (await domain.bookings.get(T, "0788000001", first.id)).destination == "Musanze"
    with pytest.raises(BookingNotFound):
        await domain.bookings.get(T, BOB, first.id)
    with pytest.raises(BookingNotFound):
        await domain.bookings.cancel(T, BOB, first.id, "steal")


async def test_a_create_racing_its_twin_returns_the_twins_booking(domain, monkeypatch):
    """The twin committed between our key lookup and our insert: we replay its booking."""
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    first = await domain.bookings.create(T, ALICE, trip.id, 1, "k")
    real = domain.bookings._replay_create
    calls = []

    async def missed_once(*args):
        calls.append(args)
        return None if len(calls) == 1 else await real(*args)

    monkeypatch.setattr(domain.bookings, "_replay_create", missed_once)
    again = await domain.bookings.create(T, ALICE, trip.id, 1, "k")
    assert (again.id, again.replayed, len(calls)) == (first.id, True, 2)
    assert await domain.wallets.balance(T, ALICE) == 7_500
    assert await seats_left(domain, trip.id) == 2


async def test_a_cancel_key_taken_by_a_concurrent_cancel_is_a_conflict(domain, monkeypatch):
    """Two bookings cancelled at once under one key: the second writer trips the UNIQUE
    constraint after its own check passed, and is told the key is taken."""
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    first = await domain.bookings.create(T, ALICE, trip.id, 1, "a")
    second = await domain.bookings.create(T, ALICE, trip.id, 1, "b")
    await domain.bookings.cancel(T, ALICE, first.id, "undo")

    async def racing_cancel(tx, tenant, phone, booking_id, key, now):
        await tx.execute("UPDATE bookings SET cancel_key = ? WHERE id = ?", [key, booking_id])

    monkeypatch.setattr(domain.bookings, "_cancel", racing_cancel)
    with pytest.raises(IdempotencyConflict):
        await domain.bookings.cancel(T, ALICE, second.id, "undo")

    async def broken_cancel(tx, tenant, phone, booking_id, key, now):
        raise ConstraintViolation("check", "bookings_seats_positive")

    monkeypatch.setattr(domain.bookings, "_cancel", broken_cancel)
    with pytest.raises(ConstraintViolation):
        await domain.bookings.cancel(T, ALICE, second.id, "other")
    monkeypatch.undo()
    assert (await domain.bookings.get(T, ALICE, second.id)).status == "confirmed"


async def test_a_one_franc_fare_is_charged_and_refunded(domain):
    await fund(domain, ALICE, 10)
    trip = await add_trip(domain, price=1)
    booking = await domain.bookings.create(T, ALICE, trip.id, 1, "b")
    assert await domain.wallets.balance(T, ALICE) == 9
    await domain.bookings.cancel(T, ALICE, booking.id, "c")
    assert await domain.wallets.balance(T, ALICE) == 10


async def test_a_second_cancel_under_any_other_key_is_refused(domain, clock):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain)
    booking = await domain.bookings.create(T, ALICE, trip.id, 1, "b")
    await domain.bookings.cancel(T, ALICE, booking.id, "m")
    for key in ("a", "z"):
        with pytest.raises(AlreadyCancelled):
            await domain.bookings.cancel(T, ALICE, booking.id, key)


async def test_a_booking_on_a_departed_trip_cannot_be_cancelled(domain, clock):
    await fund(domain, ALICE, 10_000)
    trip = await add_trip(domain, hours=1)
    booking = await domain.bookings.create(T, ALICE, trip.id, 1, "b")
    clock.set(START + timedelta(hours=3))
    with pytest.raises(TripDeparted):
        await domain.bookings.cancel(T, ALICE, booking.id, "late")
    assert await domain.wallets.balance(T, ALICE) == 7_500
