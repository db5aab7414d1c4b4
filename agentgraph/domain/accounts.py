"""SaaS accounts (the `acme`-style tenant): customers, subscriptions and invoices.

Customers are found by email, compared after stripping surrounding whitespace and
lowercasing, both when stored and when looked up, so `  Alice@ACME.test ` finds
`alice@acme.test`. A missing customer raises `CustomerNotFound` whose user message
is exactly `No customer found with email: {email}` (the normalised email). A
customer without subscriptions or invoices gets `[]`. Subscriptions come newest
start date first, invoices newest due date first; an `open` invoice whose due
date has passed (by the domain clock, UTC) is reported as `overdue`. Amounts are in
minor units of each record's currency.
"""

from __future__ import annotations

from datetime import date

from agentgraph.clock import Clock
from agentgraph.domain.db import Database, Row
from agentgraph.domain.errors import CustomerNotFound
from agentgraph.domain.models import Customer, Invoice, Subscription
from agentgraph.domain.profiles import check_tenant
from agentgraph.domain.timestamps import as_date, as_datetime, as_optional_date

_CUSTOMER_COLUMNS = "id, tenant, email, name, company, created_at"


def normalize_email(email: object) -> str:
    """The form emails are stored and looked up in: stripped and lowercased (None becomes
    `''`). It does not check that the result is an email address."""
    return str(email if email is not None else "").strip().lower()


def _customer_from_row(row: Row) -> Customer:
    return Customer(
        id=int(row["id"]),
        tenant=row["tenant"],
        email=row["email"],
        name=row["name"],
        company=row["company"],
        created_at=as_datetime(row["created_at"]),
    )


class Accounts:
    """`domain.accounts`: customer, subscription and invoice lookups."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def customer_by_email(self, tenant: str, email: str) -> Customer:
        """The tenant's customer with this email (normalised); raises `CustomerNotFound`."""
        return _customer_from_row(await self._customer_row(tenant, email))

    async def subscriptions(self, tenant: str, email: str) -> list[Subscription]:
        """The customer's subscriptions, newest start date first; raises `CustomerNotFound`."""
        customer = await self._customer_row(tenant, email)
        rows = await self._db.fetchall(
            "SELECT id, tenant, plan, status, amount, currency, start_date, end_date "
            "FROM subscriptions WHERE tenant = ? AND customer_id = ? "
            "ORDER BY start_date DESC, id DESC",
            [tenant, customer["id"]],
        )
        return [
            Subscription(
                id=int(row["id"]),
                tenant=row["tenant"],
                customer_email=customer["email"],
                plan=row["plan"],
                status=row["status"],
                amount=int(row["amount"]),
                currency=row["currency"],
                start_date=as_date(row["start_date"]),
                end_date=as_optional_date(row["end_date"]),
            )
            for row in rows
        ]

    async def invoices(self, tenant: str, email: str) -> list[Invoice]:
        """The customer's invoices, newest due date first; raises `CustomerNotFound`. An open
        invoice past its due date (UTC date of the domain clock) reads `overdue`; the stored
        status is not changed."""
        customer = await self._customer_row(tenant, email)
        rows = await self._db.fetchall(
            "SELECT id, tenant, number, amount, currency, status, issued_date, due_date, "
            "paid_date FROM invoices WHERE tenant = ? AND customer_id = ? "
            "ORDER BY due_date DESC, id DESC",
            [tenant, customer["id"]],
        )
        today = self._clock.now().date()
        invoices = []
        for row in rows:
            due = as_date(row["due_date"])
            status = row["status"]
            if status == "open" and due < today:
                status = "overdue"
            invoices.append(
                Invoice(
                    id=int(row["id"]),
                    tenant=row["tenant"],
                    customer_email=customer["email"],
                    number=row["number"],
                    amount=int(row["amount"]),
                    currency=row["currency"],
                    status=status,
                    issued_date=as_date(row["issued_date"]),
                    due_date=due,
                    paid_date=as_optional_date(row["paid_date"]),
                )
            )
        return invoices

    async def add_customer(
        self, tenant: str, email: str, name: str, company: str | None = None
    ) -> tuple[Customer, bool]:
        """Add a customer unless the email exists; returns it and whether it was created."""
        check_tenant(tenant)
        email = normalize_email(email)
        if "@" not in email:
            raise ValueError(f"not an email address: {email!r}")
        inserted = await self._db.fetchone(
            "INSERT INTO customers (tenant, email, name, company, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, email) DO NOTHING RETURNING id",
            [tenant, email, name, company, self._clock.now()],
        )
        return await self.customer_by_email(tenant, email), inserted is not None

    async def add_subscription(
        self,
        tenant: str,
        email: str,
        *,
        plan: str,
        status: str,
        amount: int,
        currency: str,
        start_date: date,
        end_date: date | None = None,
    ) -> bool:
        """Record a subscription unless (customer, plan, start date) exists; True if added."""
        customer = await self._customer_row(tenant, email)
        inserted = await self._db.fetchone(
            "INSERT INTO subscriptions (tenant, customer_id, plan, status, amount, currency, "
            "start_date, end_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant, customer_id, plan, start_date) DO NOTHING RETURNING id",
            [
                tenant,
                customer["id"],
                plan,
                status,
                amount,
                currency,
                start_date,
                end_date,
                self._clock.now(),
            ],
        )
        return inserted is not None

    async def add_invoice(
        self,
        tenant: str,
        email: str,
        *,
        number: str,
        amount: int,
        currency: str,
        status: str,
        issued_date: date,
        due_date: date,
        paid_date: date | None = None,
    ) -> bool:
        """Record an invoice unless its number exists; True if added."""
        customer = await self._customer_row(tenant, email)
        inserted = await self._db.fetchone(
            "INSERT INTO invoices (tenant, customer_id, number, amount, currency, status, "
            "issued_date, due_date, paid_date, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant, number) DO NOTHING RETURNING id",
            [
                tenant,
                customer["id"],
                number,
                amount,
                currency,
                status,
                issued_date,
                due_date,
                paid_date,
                self._clock.now(),
            ],
        )
        return inserted is not None

    async def _customer_row(self, tenant: str, email: str) -> Row:
        normalized = normalize_email(email)
        row = await self._db.fetchone(
            f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE tenant = ? AND email = ?",
            [tenant, normalized],
        )
        if row is None:
            raise CustomerNotFound(normalized)
        return row
