"""Seat bookings paid from the wallet, cancelled with exactly one refund.

`create` takes the seats and the payment (wallet to treasury) in one transaction, so
either both happen or neither does; `cancel` marks the booking cancelled, gives the
seats back and refunds the full amount in one transaction. Both are idempotent per
key: replaying a key returns the same `Booking` with `replayed=True` and changes
nothing; reusing a key for a different request raises `IdempotencyConflict`. A
booking is refunded at most once whatever the keys (a second cancel raises
`AlreadyCancelled`), because its refund is recorded under a key derived from the
booking id. Neither departed trips can be booked nor their bookings cancelled
(`TripDeparted`). Users only see and cancel their own bookings.
"""

from __future__ import annotations

from datetime import datetime

from agentgraph.clock import Clock
from agentgraph.domain.db import ConstraintViolation, Database, Executor, Row, is_row_id
from agentgraph.domain.errors import (
    AlreadyCancelled,
    BookingNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidSeats,
    NotEnoughSeats,
    TripDeparted,
    TripNotFound,
)
from agentgraph.domain.ledger import TREASURY, ensure_treasury, lock_wallets, post_transfer
from agentgraph.domain.models import Booking
from agentgraph.domain.phones import normalize_phone
from agentgraph.domain.profiles import ensure_profile
from agentgraph.domain.timestamps import as_datetime, as_optional_datetime
from agentgraph.domain.wallets import check_key

MAX_SEATS_PER_BOOKING = 10

_SELECT = (
    "SELECT b.id, b.tenant, b.phone, b.trip_id, b.seats, b.amount, b.status, b.create_key, "
    "b.cancel_key, b.created_at, b.cancelled_at, t.origin, t.destination, t.departure "
    "FROM bookings b JOIN trips t ON t.id = b.trip_id "
)


def payment_key(booking_id: int) -> str:
    """The ledger idempotency key of the booking's payment."""
    return f"booking:{booking_id}:payment"


def refund_key(booking_id: int) -> str:
    """The ledger idempotency key of the booking's refund: derived from the booking id, not
    the cancel key, so a booking can be refunded only once."""
    return f"booking:{booking_id}:refund"


def booking_from_row(row: Row, *, replayed: bool = False) -> Booking:
    """A `Booking` from a bookings row joined with its trip's origin, destination and
    departure; `replayed` marks the result of a replayed idempotency key."""
    return Booking(
        id=int(row["id"]),
        tenant=row["tenant"],
        phone=row["phone"],
        trip_id=int(row["trip_id"]),
        origin=row["origin"],
        destination=row["destination"],
        departure=as_datetime(row["departure"]),
        seats=int(row["seats"]),
        amount=int(row["amount"]),
        status=row["status"],
        created_at=as_datetime(row["created_at"]),
        cancelled_at=as_optional_datetime(row["cancelled_at"]),
        replayed=replayed,
    )


def _check_seats(seats: object) -> int:
    if not isinstance(seats, int) or isinstance(seats, bool):
        raise InvalidSeats(seats, MAX_SEATS_PER_BOOKING)
    if not 1 <= seats <= MAX_SEATS_PER_BOOKING:
        raise InvalidSeats(seats, MAX_SEATS_PER_BOOKING)
    return seats


class Bookings:
    """`domain.bookings`: book, cancel and list seats."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def list_for(
        self, tenant: str, phone: str, include_cancelled: bool = False
    ) -> list[Booking]:
        """The user's bookings, by departure time (confirmed only unless asked)."""
        phone = normalize_phone(phone)
        sql = _SELECT + "WHERE b.tenant = ? AND b.phone = ?"
        if not include_cancelled:
            sql += " AND b.status = 'confirmed'"
        rows = await self._db.fetchall(sql + " ORDER BY t.departure, b.id", [tenant, phone])
        return [booking_from_row(row) for row in rows]

    async def get(self, tenant: str, phone: str, booking_id: int) -> Booking:
        """One of the user's bookings; `BookingNotFound` for anyone else's."""
        phone = normalize_phone(phone)
        row = await self._owned(self._db, tenant, phone, booking_id)
        return booking_from_row(row)

    async def create(
        self, tenant: str, phone: str, trip_id: int, seats: int, idempotency_key: str
    ) -> Booking:
        """Book `seats` on `trip_id`, paying `price * seats` from the wallet."""
        phone = normalize_phone(phone)
        seats = _check_seats(seats)
        key = check_key(idempotency_key)
        if not is_row_id(trip_id):
            raise TripNotFound(trip_id)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            trip = await tx.fetchone(
                "SELECT id, departure, seats_available, price FROM trips "
                "WHERE tenant = ? AND id = ? FOR UPDATE",
                [tenant, trip_id],
            )
            if trip is None:
                raise TripNotFound(trip_id)
            # After the trip lock, so a concurrent twin with this key has committed.
            replay = await self._replay_create(tx, tenant, key, phone, trip_id, seats)
            if replay is not None:
                return replay
            if as_datetime(trip["departure"]) <= now:
                raise TripDeparted(trip_id)
            if int(trip["seats_available"]) < seats:
                raise NotEnoughSeats(seats, int(trip["seats_available"]))
            amount = int(trip["price"]) * seats
            await ensure_profile(tx, tenant, phone, None, now)
            await ensure_treasury(tx, tenant, now)
            wallets = await lock_wallets(tx, tenant, [phone, TREASURY])
            if wallets[phone]["balance"] < amount:
                raise InsufficientFunds(wallets[phone]["balance"], amount)
            inserted = await tx.fetchone(
                "INSERT INTO bookings (tenant, phone, trip_id, seats, amount, status, "
                "create_key, created_at) VALUES (?, ?, ?, ?, ?, 'confirmed', ?, ?) "
                "ON CONFLICT (tenant, create_key) DO NOTHING RETURNING id",
                [tenant, phone, trip_id, seats, amount, key, now],
            )
            if inserted is None:
                replay = await self._replay_create(tx, tenant, key, phone, trip_id, seats)
                assert replay is not None
                return replay
            booking_id = int(inserted["id"])
            await tx.execute(
                "UPDATE trips SET seats_available = seats_available - ? WHERE id = ?",
                [seats, trip_id],
            )
            if amount > 0:
                await post_transfer(
                    tx,
                    tenant=tenant,
                    kind="booking",
                    key=payment_key(booking_id),
                    wallets=wallets,
                    source=phone,
                    target=TREASURY,
                    amount=amount,
                    note=f"Booking {booking_id}",
                    now=now,
                )
            row = await self._owned(tx, tenant, phone, booking_id)
        return booking_from_row(row)

    async def created_with(self, tenant: str, idempotency_key: str) -> Booking | None:
        """The booking created under `idempotency_key` (`replayed=True`), or None."""
        row = await self._db.fetchone(
            _SELECT + "WHERE b.tenant = ? AND b.create_key = ?", [tenant, idempotency_key]
        )
        return None if row is None else booking_from_row(row, replayed=True)

    async def cancelled_with(self, tenant: str, idempotency_key: str) -> Booking | None:
        """The booking cancelled under `idempotency_key` (`replayed=True`), or None."""
        row = await self._db.fetchone(
            _SELECT + "WHERE b.tenant = ? AND b.cancel_key = ?", [tenant, idempotency_key]
        )
        return None if row is None else booking_from_row(row, replayed=True)

    async def cancel(
        self, tenant: str, phone: str, booking_id: int, idempotency_key: str
    ) -> Booking:
        """Cancel one of the user's bookings, restore its seats and refund it once."""
        phone = normalize_phone(phone)
        key = check_key(idempotency_key)
        now = self._clock.now()
        try:
            async with self._db.transaction() as tx:
                return await self._cancel(tx, tenant, phone, booking_id, key, now)
        except ConstraintViolation as exc:
            # Two different bookings cancelled at once under one key: the second
            # writer trips the UNIQUE (tenant, cancel_key) constraint.
            if exc.kind == "unique":
                raise IdempotencyConflict(key) from exc
            raise

    async def _cancel(
        self, tx: Executor, tenant: str, phone: str, booking_id: int, key: str, now: datetime
    ) -> Booking:
        row = await self._owned(tx, tenant, phone, booking_id, lock=True)
        if row["status"] == "cancelled":
            if row["cancel_key"] == key:
                return booking_from_row(row, replayed=True)
            raise AlreadyCancelled(int(row["id"]))
        other = await tx.fetchone(
            "SELECT id FROM bookings WHERE tenant = ? AND cancel_key = ?", [tenant, key]
        )
        if other is not None:
            raise IdempotencyConflict(key)
        trip = await tx.fetchone(
            "SELECT id, departure FROM trips WHERE id = ? FOR UPDATE", [row["trip_id"]]
        )
        assert trip is not None
        if as_datetime(trip["departure"]) <= now:
            raise TripDeparted(int(trip["id"]))
        await tx.execute(
            "UPDATE bookings SET status = 'cancelled', cancel_key = ?, cancelled_at = ? "
            "WHERE id = ? AND status = 'confirmed'",
            [key, now, row["id"]],
        )
        await tx.execute(
            "UPDATE trips SET seats_available = seats_available + ? WHERE id = ?",
            [row["seats"], row["trip_id"]],
        )
        amount = int(row["amount"])
        if amount > 0:
            await ensure_treasury(tx, tenant, now)
            wallets = await lock_wallets(tx, tenant, [phone, TREASURY])
            # The derived key makes a second refund of this booking impossible; post
            # returns None (and moves nothing) if one were somehow already recorded.
            await post_transfer(
                tx,
                tenant=tenant,
                kind="refund",
                key=refund_key(int(row["id"])),
                wallets=wallets,
                source=TREASURY,
                target=phone,
                amount=amount,
                note=f"Refund for booking {row['id']}",
                now=now,
            )
        return booking_from_row(await self._owned(tx, tenant, phone, int(row["id"])))

    async def _owned(
        self, db: Executor, tenant: str, phone: str, booking_id: int, *, lock: bool = False
    ) -> Row:
        if not is_row_id(booking_id):
            raise BookingNotFound(booking_id)
        if lock:
            # Lock the booking row alone: FOR UPDATE on the join would lock the trip too,
            # out of the booking -> trip -> wallets order every writer follows.
            locked = await db.fetchone(
                "SELECT id FROM bookings WHERE tenant = ? AND id = ? AND phone = ? FOR UPDATE",
                [tenant, booking_id, phone],
            )
            if locked is None:
                raise BookingNotFound(booking_id)
        row = await db.fetchone(
            _SELECT + "WHERE b.tenant = ? AND b.id = ? AND b.phone = ?",
            [tenant, booking_id, phone],
        )
        if row is None:
            raise BookingNotFound(booking_id)
        return row

    async def _replay_create(
        self, tx: Executor, tenant: str, key: str, phone: str, trip_id: int, seats: int
    ) -> Booking | None:
        row = await tx.fetchone(_SELECT + "WHERE b.tenant = ? AND b.create_key = ?", [tenant, key])
        if row is None:
            return None
        if (row["phone"], int(row["trip_id"]), int(row["seats"])) != (phone, trip_id, seats):
            raise IdempotencyConflict(key)
        return booking_from_row(row, replayed=True)
