"""The reference business backend: profiles, wallets, trips, bookings, support, accounts.

Import from here: `Domain` and `open_domain` to get a backend, the record types from
`models`, every `DomainError` subclass, `normalize_phone` and `mask_phone`. No code
outside this package writes SQL; the contract of each call is in
docs/architecture.md ("Domain layer") and in the docstrings of the repository
modules.
"""

from agentgraph.domain.domain import Domain, open_domain, sqlite_path
from agentgraph.domain.errors import (
    AlreadyCancelled,
    BookingNotFound,
    CustomerNotFound,
    DomainError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidLanguage,
    InvalidName,
    InvalidPhone,
    InvalidPriority,
    InvalidSeats,
    InvalidTicketStatus,
    LimitExceeded,
    NotEnoughSeats,
    ProfileNotFound,
    RecipientNotFound,
    SelfTransfer,
    TicketNotFound,
    TripDeparted,
    TripNotFound,
    UnknownCity,
)
from agentgraph.domain.models import (
    Article,
    Booking,
    Customer,
    Invoice,
    LedgerEntry,
    Profile,
    Subscription,
    Ticket,
    Transfer,
    Trip,
)
from agentgraph.domain.phones import mask_phone, normalize_phone
from agentgraph.domain.seed import seed_demo
from agentgraph.domain.trips import normalize_city

__all__ = [
    "AlreadyCancelled",
    "Article",
    "Booking",
    "BookingNotFound",
    "Customer",
    "CustomerNotFound",
    "Domain",
    "DomainError",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidLanguage",
    "InvalidName",
    "InvalidPhone",
    "InvalidPriority",
    "InvalidSeats",
    "InvalidTicketStatus",
    "Invoice",
    "LedgerEntry",
    "LimitExceeded",
    "NotEnoughSeats",
    "Profile",
    "ProfileNotFound",
    "RecipientNotFound",
    "SelfTransfer",
    "Subscription",
    "Ticket",
    "TicketNotFound",
    "Transfer",
    "Trip",
    "TripDeparted",
    "TripNotFound",
    "UnknownCity",
    "mask_phone",
    "normalize_city",
    "normalize_phone",
    "open_domain",
    "seed_demo",
    "sqlite_path",
]
