"""Bus-trip tools: search, availability, booking (paid from the wallet), cancellation.

`search_trips` and `list_bookings` answer with text plus an artifact
`{"kind": "choices", "button", "rows": [{id, title, description}]}` that channels
with pickers (WhatsApp list messages) show as rows; the text alone is complete.

`create_booking` and `cancel_booking` pause for an explicit yes (showing trip, time
and price, or the refund) before money moves, and pay or refund with an idempotency
key naming the operation and the message that asked for it, so a retried,
redelivered or resumed run never charges twice. Two taps on the same trip row ask
twice and book once: the second tap supersedes the first question. All lookups are
scoped to the user in the runtime context.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain import (
    Booking,
    DomainError,
    InsufficientFunds,
    NotEnoughSeats,
    TripDeparted,
)
from agentgraph.tools.confirm import require_confirmation
from agentgraph.tools.dates import parse_day
from agentgraph.tools.formatting import local_time, money
from agentgraph.tools.idempotency import idempotency_key, requested_at
from agentgraph.tools.services import identity, services_of

__all__ = [
    "cancel_booking",
    "check_availability",
    "create_booking",
    "list_bookings",
    "search_trips",
]

MAX_TRIPS_SHOWN = 10

# Tool artifact for channels that can show rows (WhatsApp lists): each row's id is the
# message the user would type to act on it ("book trip 12", "cancel booking 3").
Choices = dict[str, Any]


@tool(response_format="content_and_artifact")
async def search_trips(
    runtime: ToolRuntime[Context, Any],
    origin: Annotated[str, Field(description="Departure city, e.g. Kigali.")],
    destination: str = Field(description="Arrival city, e.g. Huye."),
    date: Annotated[
        str | None,
        Field(description="YYYY-MM-DD, 'today', 'tomorrow' or a weekday; empty for any."),
    ] = None,
) -> tuple[str, Choices | None]:
    """Find upcoming bus trips between two cities, optionally on a given day."""
    services = services_of(runtime)
    tenant, _ = identity(runtime)
    try:
        day = parse_day(date, services.clock.now(), services.prompts)
        trips = await services.domain.trips.search(tenant, origin, destination, day)
    except ValueError as exc:
        return str(exc), None
    except DomainError as exc:
        return exc.user_message, None
    when = f" on {day.isoformat()}" if day else ""
    if not trips:
        return f"No trips found from {origin} to {destination}{when}.", None
    lines = [f"Trips from {trips[0].origin} to {trips[0].destination}{when}:"]
    rows = []
    for t in trips[:MAX_TRIPS_SHOWN]:
        lines.append(
            f"- Trip {t.id}: {local_time(t.departure)}, {money(t.price)}, "
            f"{t.seats_available} seats left"
        )
        rows.append(
            {
                "id": f"book trip {t.id}",
                "title": f"Trip {t.id} {local_time(t.departure)[4:]}",
                "description": f"{money(t.price)}, {t.seats_available} seats left",
            }
        )
    lines.append("Reply 'book trip <number>' to book one.")
    return "\n".join(lines), {"kind": "choices", "button": "Trips", "rows": rows}


@tool
async def check_availability(
    runtime: ToolRuntime[Context, Any],
    trip_id: Annotated[int, Field(description="The trip number from search results.")],
) -> str:
    """Show seats left, price and departure time of one trip."""
    domain = services_of(runtime).domain
    tenant, _ = identity(runtime)
    try:
        t = await domain.trips.get(tenant, trip_id)
    except DomainError as exc:
        return exc.user_message
    return (
        f"Trip {t.id} {t.origin} -> {t.destination} leaves {local_time(t.departure)}: "
        f"{t.seats_available} of {t.seats_total} seats left, {money(t.price)} per seat."
    )


@tool
async def create_booking(
    runtime: ToolRuntime[Context, Any],
    trip_id: Annotated[int, Field(description="The trip number to book.")],
    seats: int = Field(default=1, ge=1, le=10, description="Number of seats."),
) -> str:
    """Book seats on a trip, paying from the user's wallet. Always asks the user to confirm."""
    services = services_of(runtime)
    domain, settings = services.domain, services.settings
    tenant, phone = identity(runtime)
    profile = await domain.profiles.get_or_create(tenant, phone)
    key = idempotency_key(runtime, "booking", trip_id, seats)
    # This message's booking was already made (a re-run after a crash): answer it
    # again rather than judge it anew against the seats and balance it already took.
    made = await domain.bookings.created_with(tenant, key)
    if made is not None:
        return _booked(made, await domain.wallets.balance(tenant, phone))
    # Everything that can refuse is checked before asking, so the user is never asked
    # to confirm a booking that cannot happen.
    try:
        trip = await domain.trips.get(tenant, trip_id)
    except DomainError as exc:
        return exc.user_message
    if trip.departure <= services.clock.now():
        return TripDeparted(trip.id).user_message
    if trip.seats_available < seats:
        return NotEnoughSeats(seats, trip.seats_available).user_message
    total = trip.price * seats
    balance = await domain.wallets.balance(tenant, phone)
    if balance < total:
        return InsufficientFunds(balance, total).user_message
    decision = require_confirmation(
        action="create_booking",
        summary=(
            f"Book {seats} seat(s) on trip {trip.id} ({trip.origin} -> {trip.destination}, "
            f"{local_time(trip.departure)}) for {money(total)}?"
        ),
        details={"trip_id": trip.id, "seats": seats, "amount": total, "currency": "RWF"},
        language=profile.language,
        ttl_seconds=settings.confirmation_ttl_seconds,
        requested_at=requested_at(runtime),
        prompts=services.prompts,
        clock=services.clock,
    )
    if not decision.approved:
        return decision.message
    try:
        booking = await domain.bookings.create(tenant, phone, trip_id, seats, key)
    except DomainError as exc:
        return exc.user_message
    services.faults.point("after_effect")
    return _booked(booking, await domain.wallets.balance(tenant, phone))


def _booked(booking: Booking, balance: int) -> str:
    return (
        f"Booked: booking {booking.id}, {booking.seats} seat(s) on trip {booking.trip_id} "
        f"{booking.origin} -> {booking.destination}, {local_time(booking.departure)}. "
        f"Paid {money(booking.amount)}; your balance is {money(balance)}."
    )


@tool
async def cancel_booking(
    runtime: ToolRuntime[Context, Any],
    booking_id: Annotated[int, Field(description="The booking number to cancel.")],
) -> str:
    """Cancel one of the user's bookings and refund it. Always asks the user to confirm."""
    services = services_of(runtime)
    domain, settings = services.domain, services.settings
    tenant, phone = identity(runtime)
    profile = await domain.profiles.get_or_create(tenant, phone)
    key = idempotency_key(runtime, "cancel", booking_id)
    # This message's cancellation already went through (a re-run after a crash).
    undone = await domain.bookings.cancelled_with(tenant, key)
    if undone is not None and undone.id == booking_id:
        return _cancelled(undone, await domain.wallets.balance(tenant, phone))
    try:
        booking = await domain.bookings.get(tenant, phone, booking_id)
    except DomainError as exc:
        return exc.user_message
    if booking.status == "cancelled":
        return f"Booking {booking.id} is already cancelled."
    decision = require_confirmation(
        action="cancel_booking",
        summary=(
            f"Cancel booking {booking.id} ({booking.origin} -> {booking.destination}, "
            f"{local_time(booking.departure)}) and refund {money(booking.amount)}?"
        ),
        details={"booking_id": booking.id, "refund": booking.amount, "currency": "RWF"},
        language=profile.language,
        ttl_seconds=settings.confirmation_ttl_seconds,
        requested_at=requested_at(runtime),
        prompts=services.prompts,
        clock=services.clock,
    )
    if not decision.approved:
        return decision.message
    try:
        cancelled = await domain.bookings.cancel(tenant, phone, booking_id, key)
    except DomainError as exc:
        return exc.user_message
    services.faults.point("after_effect")
    return _cancelled(cancelled, await domain.wallets.balance(tenant, phone))


def _cancelled(booking: Booking, balance: int) -> str:
    return (
        f"Cancelled booking {booking.id}. Refunded {money(booking.amount)}; "
        f"your balance is {money(balance)}."
    )


@tool(response_format="content_and_artifact")
async def list_bookings(runtime: ToolRuntime[Context, Any]) -> tuple[str, Choices | None]:
    """List the user's active bookings."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    bookings = await domain.bookings.list_for(tenant, phone)
    if not bookings:
        return "You have no active bookings.", None
    lines = ["Your bookings:"]
    rows = []
    for b in bookings:
        lines.append(
            f"- Booking {b.id}: {b.origin} -> {b.destination}, "
            f"{local_time(b.departure)}, {b.seats} seat(s), {money(b.amount)}"
        )
        rows.append(
            {
                "id": f"cancel booking {b.id}",
                "title": f"Booking {b.id} {b.origin}-{b.destination}",
                "description": f"{local_time(b.departure)}, {b.seats} seat(s), {money(b.amount)}",
            }
        )
    return "\n".join(lines), {"kind": "choices", "button": "Bookings", "rows": rows[:10]}


create_booking.metadata = {"needs_confirmation": True, "moves_money": True}
cancel_booking.metadata = {"needs_confirmation": True, "moves_money": True}
