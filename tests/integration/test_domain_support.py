"""Support, accounts and flags on both engines: article ranking, ticket rules,
customer lookups and feature flags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from agentgraph.clock import ManualClock
from agentgraph.domain import (
    CustomerNotFound,
    InvalidPriority,
    TicketNotFound,
    seed_demo,
)
from agentgraph.persistence import open_domain

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
ALICE, BOB = "+250788000001", "+250788000002"


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
async def domain(any_settings, clock):
    async with open_domain(any_settings, clock=clock) as opened:
        yield opened


@pytest.fixture
async def seeded(domain):
    await seed_demo(domain)
    return domain


RELEVANCE_CASES = [
    ("easymo", "How do I get a refund for my cancelled booking?", "booking-refunds"),
    ("easymo", "cancel my bus booking", "cancel-booking"),
    ("easymo", "what is the maximum I can transfer per day", "transfer-limits"),
    ("easymo", "my transfer failed", "transfer-failed"),
    ("easymo", "how to top up wallet with momo", "top-up-wallet"),
    ("easymo", "someone is scamming me, fraud", "account-security"),
    ("acme", "I forgot my password and can't login", "reset-password"),
    ("acme", "export data to CSV", "export-data"),
    ("acme", "rotate my API keys", "api-keys"),
    ("acme", "where can I download my invoices", "download-invoices"),
    ("acme", "upgrade plan", "change-plan"),
]


async def test_article_search_ranks_the_relevant_article_first(seeded):
    for tenant, query, best in RELEVANCE_CASES:
        results = await seeded.support.search_articles(tenant, query)
        assert results and results[0].slug == best, (query, [a.slug for a in results])
        assert all(a.tenant == tenant for a in results)
        assert [a.score for a in results] == sorted((a.score for a in results), reverse=True)
        assert len(results) <= 3


async def test_article_search_is_per_tenant_and_empty_for_noise(seeded):
    assert await seeded.support.search_articles("easymo", "the and of to") == []
    assert await seeded.support.search_articles("easymo", "xylophone zebra") == []
    assert all(
        a.slug != "api-keys" for a in await seeded.support.search_articles("easymo", "API keys")
    )
    top = await seeded.support.search_articles("easymo", "refund booking", limit=5)
    assert [a.slug for a in top][:2] == ["booking-refunds", "cancel-booking"]
    assert top[0].tags == ("refund", "booking", "cancel", "wallet")


TICKET_CASES = [
    ("Outage", "Nothing works, the service is down", "urgent", 1),
    ("Help", "I lost money on a transfer", "urgent", 1),
    ("Refund", "Where is the refund for my booking?", "high", 4),
    ("Account", "My account is locked after a failed login", "high", 4),
    ("Question", "How do I change my language?", "medium", 24),
]


async def test_ticket_priority_and_due_at_follow_the_rules(domain):
    for subject, description, priority, hours in TICKET_CASES:
        ticket = await domain.support.create_ticket("easymo", "0788000001", subject, description)
        assert (ticket.priority, ticket.status, ticket.kind, ticket.phone) == (
            priority,
            "open",
            "support",
            ALICE,
        ), subject
        assert ticket.created_at == START
        assert ticket.due_at == START + timedelta(hours=hours)
        assert await domain.support.get_ticket("easymo", ALICE, ticket.id) == ticket


async def test_explicit_priority_wins_and_is_validated(domain):
    ticket = await domain.support.create_ticket(
        "easymo", ALICE, "Fraud?", "Maybe fraud", priority=" High "
    )
    assert (ticket.priority, ticket.due_at) == ("high", START + timedelta(hours=4))
    critical = await domain.support.create_ticket("easymo", ALICE, "x", "y", priority="critical")
    assert critical.priority == "urgent"
    blank = await domain.support.create_ticket("easymo", ALICE, "Refund", "please", priority=" ")
    assert blank.priority == "high"
    with pytest.raises(InvalidPriority):
        await domain.support.create_ticket("easymo", ALICE, "x", "y", priority="whenever")


async def test_tickets_are_private_and_have_integer_ids(domain):
    first = await domain.support.create_ticket("easymo", ALICE, "One", "first")
    second = await domain.support.create_ticket("easymo", ALICE, "Two", "second")
    assert isinstance(first.id, int) and second.id > first.id
    with pytest.raises(TicketNotFound):
        await domain.support.get_ticket("easymo", BOB, first.id)
    with pytest.raises(TicketNotFound):
        await domain.support.get_ticket("acme", ALICE, first.id)
    with pytest.raises(TicketNotFound):
        await domain.support.get_ticket("easymo", ALICE, 9_999)
    listed = await domain.support.list_tickets("easymo", ALICE)
    assert [t.id for t in listed] == [second.id, first.id]
    resolved = await domain.support.set_status("easymo", first.id, "resolved")
    assert resolved.status == "resolved"
    assert [t.id for t in await domain.support.list_tickets("easymo", ALICE)] == [second.id]


async def test_escalation_is_urgent_records_thread_and_is_not_duplicated(domain, clock):
    thread = "wa:123:250788000001"
    ticket = await domain.support.escalate("easymo", ALICE, thread, "User wants a human")
    assert (ticket.kind, ticket.priority, ticket.thread_id, ticket.status) == (
        "escalation",
        "urgent",
        thread,
        "open",
    )
    assert ticket.due_at == START + timedelta(hours=1)
    assert "User wants a human" in ticket.description
    clock.advance(minutes=5)
    assert (await domain.support.escalate("easymo", ALICE, thread, "again")).id == ticket.id
    await domain.support.set_status("easymo", ticket.id, "resolved")
    newer = await domain.support.escalate("easymo", ALICE, thread, "once more")
    assert newer.id != ticket.id and newer.created_at == START + timedelta(minutes=5)


async def test_customer_lookup_normalises_email(seeded):
    customer = await seeded.accounts.customer_by_email("acme", "  Alice@ACME.test \n")
    assert (customer.email, customer.name) == ("alice@acme.test", "Alice Martin")
    with pytest.raises(CustomerNotFound) as info:
        await seeded.accounts.customer_by_email("acme", "nobody@example.com")
    assert info.value.user_message == "No customer found with email: nobody@example.com"
    with pytest.raises(CustomerNotFound):
        await seeded.accounts.customer_by_email("easymo", "alice@acme.test")


async def test_subscriptions_and_invoices(seeded, clock):
    subs = await seeded.accounts.subscriptions("acme", "ALICE@acme.test")
    assert [(s.plan, s.status, s.amount, s.currency, s.end_date) for s in subs] == [
        ("Pro", "active", 4_900, "USD", None)
    ]
    assert subs[0].start_date == date(2025, 3, 10) - timedelta(days=120)
    bob_subs = await seeded.accounts.subscriptions("acme", "bob@acme.test")
    assert [(s.status, s.end_date is not None) for s in bob_subs] == [("cancelled", True)]
    assert await seeded.accounts.subscriptions("acme", " carol@acme.test") == []
    assert await seeded.accounts.invoices("acme", "carol@acme.test") == []
    with pytest.raises(CustomerNotFound):
        await seeded.accounts.subscriptions("acme", "ghost@acme.test")
    invoices = await seeded.accounts.invoices("acme", "alice@acme.test")
    assert [(i.number, i.status) for i in invoices] == [("INV-1002", "open"), ("INV-1001", "paid")]
    assert (await seeded.accounts.invoices("acme", "bob@acme.test"))[0].status == "overdue"
    clock.advance(days=30)
    later = await seeded.accounts.invoices("acme", "alice@acme.test")
    assert [(i.number, i.status) for i in later] == [("INV-1002", "overdue"), ("INV-1001", "paid")]


async def test_feature_flags_default_and_override_per_tenant(domain):
    assert await domain.flags.is_enabled("easymo", "ai_agents_enabled") is True
    assert await domain.flags.is_enabled("easymo", "no_such_flag") is False
    await domain.flags.set("easymo", "ai_agents_enabled", False)
    assert await domain.flags.is_enabled("easymo", "ai_agents_enabled") is False
    assert await domain.flags.is_enabled("acme", "ai_agents_enabled") is True
    await domain.flags.set("easymo", "ai_agents_enabled", True)
    assert await domain.flags.all("easymo") == {"ai_agents_enabled": True}


async def test_profile_and_flag_in_one_read(domain):
    flags, profiles = domain.flags, domain.profiles
    # A new user is created (with a wallet) and gets the default.
    profile, enabled = await flags.profile_and_flag(
        profiles, "easymo", "0788123456", "ai_agents_enabled"
    )
    assert profile.phone == "+250788123456" and enabled is True
    assert await domain.wallets.balance("easymo", "+250788123456") == 0
    # A known user reads the stored value, per tenant; unknown flags are off.
    await profiles.update("easymo", "+250788123456", opted_out=True)
    await flags.set("easymo", "ai_agents_enabled", False)
    profile, enabled = await flags.profile_and_flag(
        profiles, "easymo", "+250788123456", "ai_agents_enabled"
    )
    assert profile.opted_out is True and enabled is False
    _, other_tenant = await flags.profile_and_flag(
        profiles, "acme", "+250788123456", "ai_agents_enabled"
    )
    assert other_tenant is True
    _, unknown = await flags.profile_and_flag(profiles, "easymo", "+250788123456", "no_such_flag")
    assert unknown is False
