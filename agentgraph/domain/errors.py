"""Every failure the domain layer reports to a caller, one class per failure.

All derive from `DomainError` and carry `.user_message`, a complete sentence that
is safe to show the end user as is (it never contains another user's data), plus a
stable snake_case `.code` for programs and the facts that caused the failure as
attributes (for example `InsufficientFunds.balance`). `str(error)` is the user
message. Programming mistakes (a naive datetime, a malformed tenant slug) raise
`ValueError` instead and are not domain errors.
"""

from __future__ import annotations


def rwf(amount: int) -> str:
    """An RWF amount as users read it: `30,000 RWF`."""
    return f"{amount:,} RWF"


class DomainError(Exception):
    """A failure a user can cause; `user_message` explains it to them."""

    code = "domain_error"

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InvalidPhone(DomainError):
    code = "invalid_phone"

    def __init__(self, phone: object) -> None:
        self.phone = phone
        super().__init__(
            f"'{phone}' is not a valid phone number. "
            "Please use a format like +250788123456 or 0788123456."
        )


class ProfileNotFound(DomainError):
    code = "profile_not_found"

    def __init__(self, phone: str) -> None:
        self.phone = phone
        super().__init__(f"No profile exists for {phone}.")


class InvalidLanguage(DomainError):
    code = "invalid_language"

    def __init__(self, language: object) -> None:
        self.language = language
        super().__init__(
            f"'{language}' is not a supported language. Choose English (en) or French (fr)."
        )


class InvalidName(DomainError):
    code = "invalid_name"

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        super().__init__(f"Please give a name between 1 and {max_length} characters long.")


class InvalidAmount(DomainError):
    code = "invalid_amount"

    def __init__(self, amount: object) -> None:
        self.amount = amount
        super().__init__("The amount must be a whole number of RWF greater than zero.")


class InsufficientFunds(DomainError):
    code = "insufficient_funds"

    def __init__(self, balance: int, needed: int) -> None:
        self.balance = balance
        self.needed = needed
        super().__init__(
            f"Insufficient balance: you have {rwf(balance)} but this needs {rwf(needed)}."
        )


class LimitExceeded(DomainError):
    """`scope` is `per_transfer` or `daily`; `remaining` is what may still be sent today."""

    code = "limit_exceeded"

    def __init__(self, scope: str, limit: int, remaining: int) -> None:
        self.scope = scope
        self.limit = limit
        self.remaining = remaining
        if scope == "per_transfer":
            message = f"The most you can send in one transfer is {rwf(limit)}."
        else:
            message = (
                f"This transfer would go over your daily limit of {rwf(limit)}. "
                f"You can still send {rwf(remaining)} today."
            )
        super().__init__(message)


class RecipientNotFound(DomainError):
    code = "recipient_not_found"

    def __init__(self, phone: str) -> None:
        self.phone = phone
        super().__init__(
            f"No account is registered for {phone}. Ask them to message us first, then try again."
        )


class SelfTransfer(DomainError):
    code = "self_transfer"

    def __init__(self) -> None:
        super().__init__("You can't send money to yourself.")


class IdempotencyConflict(DomainError):
    """The idempotency key was already used for a different request."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            "This request conflicts with an earlier one that used the same reference. "
            "Please start again."
        )


class UnknownCity(DomainError):
    code = "unknown_city"

    def __init__(self, city: str, known: list[str]) -> None:
        self.city = city
        self.known = known
        if known:
            message = f"We have no trips for '{city}'. We serve: {', '.join(known)}."
        else:
            message = "There are no trips available."
        super().__init__(message)


class TripNotFound(DomainError):
    code = "trip_not_found"

    def __init__(self, trip_id: object) -> None:
        self.trip_id = trip_id
        super().__init__(f"Trip {trip_id} was not found.")


class InvalidSeats(DomainError):
    code = "invalid_seats"

    def __init__(self, seats: object, max_seats: int) -> None:
        self.seats = seats
        self.max_seats = max_seats
        super().__init__(f"Please book between 1 and {max_seats} seats.")


class NotEnoughSeats(DomainError):
    code = "not_enough_seats"

    def __init__(self, requested: int, available: int) -> None:
        self.requested = requested
        self.available = available
        if available == 0:
            message = "Sorry, this trip is full."
        else:
            message = f"Only {available} seat(s) are left on this trip; you asked for {requested}."
        super().__init__(message)


class TripDeparted(DomainError):
    code = "trip_departed"

    def __init__(self, trip_id: int) -> None:
        self.trip_id = trip_id
        super().__init__("This trip has already departed.")


class BookingNotFound(DomainError):
    code = "booking_not_found"

    def __init__(self, booking_id: object) -> None:
        self.booking_id = booking_id
        super().__init__(f"Booking {booking_id} was not found.")


class AlreadyCancelled(DomainError):
    code = "already_cancelled"

    def __init__(self, booking_id: int) -> None:
        self.booking_id = booking_id
        super().__init__(f"Booking {booking_id} is already cancelled.")


class TicketNotFound(DomainError):
    code = "ticket_not_found"

    def __init__(self, ticket_id: object) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"Ticket {ticket_id} was not found.")


class InvalidPriority(DomainError):
    code = "invalid_priority"

    def __init__(self, priority: object) -> None:
        self.priority = priority
        super().__init__(f"'{priority}' is not a priority. Use urgent, high or medium.")


class InvalidTicketStatus(DomainError):
    code = "invalid_ticket_status"

    def __init__(self, status: object) -> None:
        self.status = status
        super().__init__(f"'{status}' is not a ticket status. Use open, in_progress or resolved.")


class CustomerNotFound(DomainError):
    code = "customer_not_found"

    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"No customer found with email: {email}")


class TenantNotFound(DomainError):
    code = "tenant_not_found"

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        super().__init__(f"No business is registered under '{tenant}'.")
