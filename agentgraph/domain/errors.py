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
    """Raised when text cannot be read as a phone number (see `normalize_phone`)."""

    code = "invalid_phone"

    def __init__(self, phone: object) -> None:
        self.phone = phone
        super().__init__(
            f"'{phone}' is not a valid phone number. "
            "Please use a format like +250788123456 or 0788123456."
        )


class ProfileNotFound(DomainError):
    """Raised by a lookup that never creates (`profiles.get`) when the phone has no profile."""

    code = "profile_not_found"

    def __init__(self, phone: str) -> None:
        self.phone = phone
        super().__init__(f"No profile exists for {phone}.")


class InvalidLanguage(DomainError):
    """Raised when a language is not `en` or `fr` (or English/French spelled out)."""

    code = "invalid_language"

    def __init__(self, language: object) -> None:
        self.language = language
        super().__init__(
            f"'{language}' is not a supported language. Choose English (en) or French (fr)."
        )


class InvalidName(DomainError):
    """Raised when a profile name is not 1 to `max_length` characters once whitespace is
    collapsed."""

    code = "invalid_name"

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        super().__init__(f"Please give a name between 1 and {max_length} characters long.")


class InvalidAmount(DomainError):
    """Raised when an amount is not a whole number of RWF from 1 to `wallets.MAX_AMOUNT`."""

    code = "invalid_amount"

    def __init__(self, amount: object) -> None:
        self.amount = amount
        super().__init__("The amount must be a whole number of RWF greater than zero.")


class InsufficientFunds(DomainError):
    """Raised when a wallet holds less than a transfer or booking needs; nothing moved."""

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
    """Raised when money is sent or credited to a phone with no profile in the tenant."""

    code = "recipient_not_found"

    def __init__(self, phone: str) -> None:
        self.phone = phone
        super().__init__(
            f"No account is registered for {phone}. Ask them to message us first, then try again."
        )


class SelfTransfer(DomainError):
    """Raised when a transfer's recipient is its sender."""

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
    """Raised by a trip search naming a city the tenant has no trips for; `known` lists
    those it has."""

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
    """Raised when a trip id does not exist in the tenant."""

    code = "trip_not_found"

    def __init__(self, trip_id: object) -> None:
        self.trip_id = trip_id
        super().__init__(f"Trip {trip_id} was not found.")


class InvalidSeats(DomainError):
    """Raised when a booking asks for a seat count that is not a whole number from 1 to
    `max_seats`."""

    code = "invalid_seats"

    def __init__(self, seats: object, max_seats: int) -> None:
        self.seats = seats
        self.max_seats = max_seats
        super().__init__(f"Please book between 1 and {max_seats} seats.")


class NotEnoughSeats(DomainError):
    """Raised when a trip has fewer seats left than a booking asks for."""

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
    """Raised when booking a trip, or cancelling a booking on one, that has already left."""

    code = "trip_departed"

    def __init__(self, trip_id: int) -> None:
        self.trip_id = trip_id
        super().__init__("This trip has already departed.")


class BookingNotFound(DomainError):
    """Raised alike for a missing booking id and another user's, so ids reveal nothing."""

    code = "booking_not_found"

    def __init__(self, booking_id: object) -> None:
        self.booking_id = booking_id
        super().__init__(f"Booking {booking_id} was not found.")


class AlreadyCancelled(DomainError):
    """Raised when cancelling a booking already cancelled under a different idempotency key."""

    code = "already_cancelled"

    def __init__(self, booking_id: int) -> None:
        self.booking_id = booking_id
        super().__init__(f"Booking {booking_id} is already cancelled.")


class TicketNotFound(DomainError):
    """Raised alike for a missing ticket id and another user's, so ids reveal nothing."""

    code = "ticket_not_found"

    def __init__(self, ticket_id: object) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"Ticket {ticket_id} was not found.")


class InvalidPriority(DomainError):
    """Raised when a ticket priority is not urgent, high or medium (or critical, normal)."""

    code = "invalid_priority"

    def __init__(self, priority: object) -> None:
        self.priority = priority
        super().__init__(f"'{priority}' is not a priority. Use urgent, high or medium.")


class InvalidTicketStatus(DomainError):
    """Raised when a ticket is moved to a status other than open, in_progress or resolved."""

    code = "invalid_ticket_status"

    def __init__(self, status: object) -> None:
        self.status = status
        super().__init__(f"'{status}' is not a ticket status. Use open, in_progress or resolved.")


class CustomerNotFound(DomainError):
    """Raised when the tenant has no customer with the (normalised) email."""

    code = "customer_not_found"

    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"No customer found with email: {email}")


class TenantNotFound(DomainError):
    """Raised when no tenant is registered under the slug."""

    code = "tenant_not_found"

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        super().__init__(f"No business is registered under '{tenant}'.")
