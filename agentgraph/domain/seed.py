"""Demo data: `await seed_demo(domain)` fills a migrated database for the demos.

It creates the tenants `easymo` and `acme`; ten easymo users (+250788000001 ...
+250788000010) each topped up once with 50,000 RWF from the treasury; a bus
timetable between every ordered pair of Kigali, Huye, Musanze and Rubavu at 07:00,
12:00 and 17:00 Kigali time for today and the next six days (future departures
only, 30 seats, 2,000-5,000 RWF); 20 help articles; and acme customers with
subscriptions and invoices; and the agents each tenant runs in the agent registry
(`shipped_agents.seed_agents`: easymo all four, acme triage and support). Every
insert is keyed (idempotency keys, unique natural keys), so running it again
changes nothing, and running it on a later day only adds the newly missing future
departures. Returns how many rows of each kind this call created.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from itertools import permutations

from agentgraph.clock import KIGALI
from agentgraph.domain.backend import Domain
from agentgraph.domain.ledger import find_transfer
from agentgraph.domain.profiles import ensure_profile
from agentgraph.domain.seed_data import (
    ACME,
    ARTICLES,
    CUSTOMERS,
    DEMO_BALANCE,
    DEMO_USERS,
    DEPARTURES_LOCAL,
    EASYMO,
    FARES,
    INVOICES,
    SEATS_PER_TRIP,
    SUBSCRIPTIONS,
    TENANTS,
    TIMETABLE_DAYS,
)
from agentgraph.domain.shipped_agents import seed_agents
from agentgraph.domain.timestamps import as_datetime, require_aware
from agentgraph.domain.trips import CITIES


def topup_key(phone: str) -> str:
    """The idempotency key of the user's demo top-up: one per phone however often seeded."""
    return f"seed:topup:{phone}"


async def seed_demo(domain: Domain, now: datetime | None = None) -> dict[str, int]:
    """Load the demo data set; returns counts of rows created by this call."""
    now = require_aware(now) if now is not None else domain.now()
    created = {
        "tenants": await _seed_tenants(domain),
        "profiles": 0,
        "credits": 0,
        "trips": await _seed_trips(domain, now),
        "articles": 0,
        "customers": 0,
        "subscriptions": 0,
        "invoices": 0,
        "agents": 0,
    }
    created["profiles"], created["credits"] = await _seed_users(domain, now)
    for article in ARTICLES:
        _, added = await domain.support.add_article(
            article.tenant, article.slug, article.title, article.body, article.tags
        )
        created["articles"] += added
    customers, subscriptions, invoices = await _seed_customers(domain)
    created.update(customers=customers, subscriptions=subscriptions, invoices=invoices)
    created["agents"] = await seed_agents(domain)
    return created


async def _seed_tenants(domain: Domain) -> int:
    count = 0
    for slug, name in TENANTS.items():
        _, created = await domain.tenants.add(slug, name)
        count += created
    return count


async def _seed_users(domain: Domain, now: datetime) -> tuple[int, int]:
    profiles = credits = 0
    for phone, name, language in DEMO_USERS:
        async with domain.db.transaction() as tx:
            _, was_created = await ensure_profile(tx, EASYMO, phone, name, now)
            if was_created and language != "en":
                await tx.execute(
                    "UPDATE profiles SET language = ? WHERE tenant = ? AND phone = ?",
                    [language, EASYMO, phone],
                )
            already_credited = await find_transfer(tx, EASYMO, topup_key(phone)) is not None
        profiles += was_created
        if not already_credited:
            await domain.wallets.credit(
                EASYMO, phone, DEMO_BALANCE, topup_key(phone), "Demo welcome top-up"
            )
            credits += 1
    return profiles, credits


def timetable(now: datetime, tz: tzinfo = KIGALI) -> list[tuple[str, str, datetime, int]]:
    """(origin, destination, departure UTC, fare) for every demo departure after `now`,
    on the calendar days (in `tz`) from today to TIMETABLE_DAYS - 1 days ahead."""
    today = now.astimezone(tz).date()
    rows = []
    for offset in range(TIMETABLE_DAYS):
        day = today + timedelta(days=offset)
        for clock_time in DEPARTURES_LOCAL:
            departure = datetime.combine(day, clock_time, tzinfo=tz)
            if departure <= now:
                continue
            for origin, destination in permutations(CITIES, 2):
                fare = FARES[frozenset({origin, destination})]
                rows.append((origin, destination, as_datetime(departure), fare))
    return rows


async def _seed_trips(domain: Domain, now: datetime) -> int:
    count = 0
    # One transaction: a few hundred inserts commit once instead of once each.
    async with domain.db.transaction() as tx:
        for origin, destination, departure, fare in timetable(now, domain.local_tz):
            row = await tx.fetchone(
                "INSERT INTO trips (tenant, origin, destination, departure, seats_total, "
                "seats_available, price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant, origin, destination, departure) DO NOTHING RETURNING id",
                [EASYMO, origin, destination, departure, SEATS_PER_TRIP, SEATS_PER_TRIP, fare, now],
            )
            count += row is not None
    return count


async def _seed_customers(domain: Domain) -> tuple[int, int, int]:
    customers = subscriptions = invoices = 0
    anchors: dict[str, date] = {}
    tenant = ACME
    for seed in CUSTOMERS:
        customer, added = await domain.accounts.add_customer(
            tenant, seed.email, seed.name, seed.company
        )
        customers += added
        anchors[seed.email] = customer.created_at.date()
    for sub in SUBSCRIPTIONS:
        anchor = anchors[sub.email]
        subscriptions += await domain.accounts.add_subscription(
            tenant,
            sub.email,
            plan=sub.plan,
            status=sub.status,
            amount=sub.amount,
            currency=sub.currency,
            start_date=anchor + timedelta(days=sub.start_offset_days),
            end_date=None
            if sub.end_offset_days is None
            else anchor + timedelta(days=sub.end_offset_days),
        )
    for inv in INVOICES:
        anchor = anchors[inv.email]
        invoices += await domain.accounts.add_invoice(
            tenant,
            inv.email,
            number=inv.number,
            amount=inv.amount,
            currency=inv.currency,
            status=inv.status,
            issued_date=anchor + timedelta(days=inv.issued_offset_days),
            due_date=anchor + timedelta(days=inv.due_offset_days),
            paid_date=None
            if inv.paid_offset_days is None
            else anchor + timedelta(days=inv.paid_offset_days),
        )
    return customers, subscriptions, invoices
