"""The demo seed on both engines: what it creates, and that re-running changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentgraph.clock import ManualClock
from agentgraph.domain import seed_demo
from agentgraph.domain.seed_data import DEMO_USERS
from agentgraph.persistence import open_domain

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # 10:00 in Kigali: 07:00 has left
TABLES = (
    "tenants",
    "profiles",
    "wallets",
    "transfers",
    "ledger_entries",
    "trips",
    "articles",
    "customers",
    "subscriptions",
    "invoices",
)


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
async def domain(any_settings, clock):
    async with open_domain(any_settings, clock=clock) as opened:
        yield opened


async def snapshot(domain):
    counts = {}
    for table in TABLES:
        counts[table] = int(await domain.db.fetchval(f"SELECT COUNT(*) FROM {table}"))
    rows = await domain.db.fetchall("SELECT tenant, phone, balance FROM wallets ORDER BY phone")
    counts["balances"] = [(r["tenant"], r["phone"], int(r["balance"])) for r in rows]
    return counts


async def test_seed_creates_the_demo_world(domain):
    created = await seed_demo(domain)
    # Today: 12:00 and 17:00 left; six more days of three departures; 12 routes each.
    assert created == {
        "tenants": 2,
        "profiles": 10,
        "credits": 10,
        "trips": (2 + 6 * 3) * 12,
        "articles": 20,
        "customers": 4,
        "subscriptions": 3,
        "invoices": 3,
        "agents": 6,
    }
    for phone, name, language in DEMO_USERS:
        profile = await domain.profiles.get("easymo", phone)
        assert (profile.name, profile.language) == (name, language)
        assert await domain.wallets.balance("easymo", phone) == 50_000
    trips = await domain.trips.search("easymo", "Kigali", "Rubavu", START.date(), limit=50)
    assert [t.local_departure().hour for t in trips] == [12, 17]
    assert all(2_000 <= t.price <= 5_000 and t.seats_available == 30 for t in trips)
    assert await domain.trips.cities("easymo") == ["Huye", "Kigali", "Musanze", "Rubavu"]
    assert len(await domain.support.search_articles("acme", "billing invoice", limit=20)) >= 3


async def test_seed_twice_changes_nothing(domain):
    await seed_demo(domain)
    before = await snapshot(domain)
    again = await seed_demo(domain)
    assert set(again.values()) == {0}
    assert await snapshot(domain) == before


async def test_seed_keeps_user_activity_and_only_adds_missing_future_days(domain, clock):
    await seed_demo(domain)
    await domain.wallets.transfer("easymo", "+250788000001", "+250788000002", 5_000, "t")
    first_trips = await snapshot(domain)
    clock.advance(timedelta(days=2))
    created = await seed_demo(domain)
    assert created["trips"] == 2 * 3 * 12
    assert {k: v for k, v in created.items() if k != "trips"} == dict.fromkeys(
        (
            "tenants",
            "profiles",
            "credits",
            "articles",
            "customers",
            "subscriptions",
            "invoices",
            "agents",
        ),
        0,
    )
    assert await domain.wallets.balance("easymo", "+250788000001") == 45_000
    after = await snapshot(domain)
    assert after["trips"] == first_trips["trips"] + 72
    assert after["invoices"] == first_trips["invoices"]
