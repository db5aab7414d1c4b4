"""The records the domain layer returns: frozen, keyword-only dataclasses.

Values are plain Python: money is `int` (RWF for wallets, trips and bookings; minor
units of `currency` for SaaS subscriptions and invoices), timestamps are aware UTC
`datetime`s, calendar dates are `date`s, phones are E.164 strings. A record is a
snapshot taken when the call returned; it never changes or refreshes itself.
`replayed=True` on a `Transfer` or `Booking` means the idempotency key had already
been used and the original result is being returned without doing anything again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from agentgraph.clock import KIGALI


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A user of one tenant. `language` (en or fr) is the reply language; `opted_out` is set
    by STOP and cleared by START, and while it is set the channel answers only START."""

    id: int
    tenant: str
    phone: str
    name: str | None
    language: str
    opted_out: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One side of a money movement, seen from `phone`'s wallet.

    `amount` is signed (negative = money out). `kind` is transfer, credit, booking or
    refund; `counterparty` is the other user's phone, or None for the system treasury.
    """

    id: int
    tenant: str
    phone: str
    transfer_id: int
    kind: str
    amount: int
    balance_after: int
    counterparty: str | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """A completed wallet-to-wallet transfer; `sender_balance` is the sender's balance
    right after it (on a replay: right after the original)."""

    id: int
    tenant: str
    idempotency_key: str
    sender: str
    recipient: str
    amount: int
    note: str | None
    sender_balance: int
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Trip:
    """One departure; `departure` is UTC (see `local_departure`), `price` is RWF per seat."""

    id: int
    tenant: str
    origin: str
    destination: str
    departure: datetime
    seats_total: int
    seats_available: int
    price: int

    def local_departure(self, tz: tzinfo = KIGALI) -> datetime:
        """The departure in `tz` (Kigali time unless told otherwise)."""
        return self.departure.astimezone(tz)


@dataclass(frozen=True, slots=True, kw_only=True)
class Booking:
    """A booking with the trip facts a reply needs; `status` is confirmed or cancelled."""

    id: int
    tenant: str
    phone: str
    trip_id: int
    origin: str
    destination: str
    departure: datetime
    seats: int
    amount: int
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    replayed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """A help article; `score` is its relevance to the query that found it (0 otherwise)."""

    id: int
    tenant: str
    slug: str
    title: str
    body: str
    tags: tuple[str, ...] = field(default_factory=tuple)
    score: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    """A support ticket. `kind` is support or escalation, `priority` urgent, high or
    medium, `status` open, in_progress or resolved; `due_at` is the response target."""

    id: int
    tenant: str
    phone: str
    kind: str
    subject: str
    description: str
    priority: str
    status: str
    thread_id: str | None
    created_at: datetime
    due_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """A SaaS customer (the `acme`-style tenant); `email` is stored lowercased."""

    id: int
    tenant: str
    email: str
    name: str
    company: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """`status` is active, trialing, past_due or cancelled; `end_date` None = open-ended."""

    id: int
    tenant: str
    customer_email: str
    plan: str
    status: str
    amount: int
    currency: str
    start_date: date
    end_date: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    """`status` is paid, open or overdue; an open invoice past its due date reads overdue."""

    id: int
    tenant: str
    customer_email: str
    number: str
    amount: int
    currency: str
    status: str
    issued_date: date
    due_date: date
    paid_date: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    """A business served by this deployment: its slug and the name customers see."""

    slug: str
    name: str
    created_at: datetime
