"""Tenant isolation through the tools: a user of `easymo` who names `acme`'s rows
(ids, emails, the same phone number) finds nothing of acme's, moves no money, and
acme still sees all of its own, on SQLite and Postgres."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from langchain_core.messages import AIMessage

from agentgraph.domain.seed import seed_demo
from agentgraph.persistence import open_domain
from agentgraph.testing import FunctionChatModel
from agentgraph.tools import ToolServices
from tests.integration.test_tools import call

PHONE = "+250788000001"  # a user in both tenants


@pytest.fixture
async def two_tenants(any_settings):
    """Demo data plus acme rows for the same phone: a wallet, a trip, a booking, a ticket."""
    async with open_domain(any_settings) as domain:
        await seed_demo(domain)
        await domain.profiles.get_or_create("acme", PHONE, "Alice at Acme")
        await domain.wallets.credit("acme", PHONE, 70_000, "acme-topup-1", "Acme top-up")
        departure = domain.clock.now() + timedelta(days=2)
        trip, _ = await domain.trips.add("acme", "Kigali", "Huye", departure, seats=12, price=9_900)
        booking = await domain.bookings.create("acme", PHONE, trip.id, 1, "acme-booking-1")
        ticket = await domain.support.create_ticket(
            "acme", PHONE, "Acme printer jam", "The acme printer is jammed."
        )
        yield (
            (ToolServices(domain=domain, settings=any_settings), domain),
            {
                "trip": trip,
                "booking": booking,
                "ticket": ticket,
                "day": departure.date().isoformat(),
            },
        )


async def balances(domain) -> tuple[int, int]:
    return (
        await domain.wallets.balance("easymo", PHONE),
        await domain.wallets.balance("acme", PHONE),
    )


async def test_easymo_finds_nothing_of_acme_and_moves_no_money(two_tenants):
    tools, acme = two_tenants
    _, domain = tools
    trip, booking, ticket = acme["trip"], acme["booking"], acme["ticket"]
    before = await balances(domain)
    assert before == (50_000, 60_100)

    async def easymo(name, args=None, **extra):
        return await call(tools, name, args, user=PHONE, tenant="easymo", **extra)

    assert await easymo("check_balance") == "Your wallet balance is 50,000 RWF."
    history = await easymo("transaction_history")
    assert history.startswith("Your last 1 transaction(s):\n")
    assert history.endswith("+50,000 RWF Demo welcome top-up")
    found = await easymo(
        "search_trips", {"origin": "Kigali", "destination": "Huye", "date": acme["day"]}
    )
    listed = [int(n) for n in re.findall(r"^- Trip (\d+):", found, re.MULTILINE)]
    assert len(listed) == 3 and trip.id not in listed and "9,900" not in found
    for trip_id in listed:
        assert (await domain.trips.get("easymo", trip_id)).price == 3_000
    assert (
        await easymo("check_availability", {"trip_id": trip.id}) == f"Trip {trip.id} was not found."
    )
    assert await easymo("create_booking", {"trip_id": trip.id}) == f"Trip {trip.id} was not found."
    assert await easymo("list_bookings") == "You have no active bookings."
    cancel = await easymo("cancel_booking", {"booking_id": booking.id})
    assert cancel == f"Booking {booking.id} was not found."
    status = await easymo("ticket_status", {"ticket_id": ticket.id})
    assert status == f"Ticket {ticket.id} was not found."
    for name, email in (
        ("get_customer_info", "alice@acme.test"),
        ("get_subscription_details", "alice@acme.test"),
        ("list_invoices", "bob@acme.test"),
    ):
        answer = await easymo(name, {"customer_email": email}, staff=True)
        assert answer == f"No customer found with email: {email}", name
    assert await balances(domain) == before
    assert (await domain.trips.get("acme", trip.id)).seats_available == 11


async def test_acme_still_sees_its_own_rows(two_tenants):
    tools, acme = two_tenants
    trip, booking, ticket = acme["trip"], acme["booking"], acme["ticket"]

    async def as_acme(name, args=None, **extra):
        return await call(tools, name, args, user=PHONE, tenant="acme", **extra)

    assert await as_acme("check_balance") == "Your wallet balance is 60,100 RWF."
    found = await as_acme(
        "search_trips", {"origin": "Kigali", "destination": "Huye", "date": acme["day"]}
    )
    assert re.findall(r"^- Trip (\d+):", found, re.MULTILINE) == [str(trip.id)]
    assert "9,900 RWF, 11 seats left" in found
    bookings = await as_acme("list_bookings")
    assert bookings.startswith(f"Your bookings:\n- Booking {booking.id}: Kigali -> Huye,")
    status = await as_acme("ticket_status", {"ticket_id": ticket.id})
    assert status.startswith(f"Ticket #{ticket.id} 'Acme printer jam' is open")
    info = await as_acme("get_customer_info", {"customer_email": "alice@acme.test"}, staff=True)
    assert info.startswith("Customer Alice Martin <alice@acme.test>, Martin Analytics")
    subs = await as_acme(
        "get_subscription_details", {"customer_email": "alice@acme.test"}, staff=True
    )
    assert subs == "Subscriptions for alice@acme.test:\n- Pro: active, 49.00 USD"
    invoices = await as_acme("list_invoices", {"customer_email": "bob@acme.test"}, staff=True)
    assert invoices.startswith("Invoices for bob@acme.test:\n- INV-1003: 19.00 USD, overdue")


async def test_each_tenant_is_greeted_with_its_own_business_name(sqlite_settings, open_seeded):
    prompts: list[str] = []

    def respond(messages):
        prompts.append(str(messages[0].content))
        return AIMessage("Hello!")

    async with open_seeded(sqlite_settings, FunctionChatModel(respond=respond)) as assistant:
        await assistant.send("hi", user=PHONE, tenant="easymo")
        await assistant.send("hi", user="+250788000009", tenant="acme", channel="api")
    assert "front desk of easyMO Rwanda" in prompts[0]
    assert "front desk of Acme Cloud" in prompts[1] and "easyMO" not in prompts[1]
