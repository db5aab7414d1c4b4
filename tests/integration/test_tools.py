"""Each tool's success and failure answers, called the way the graph's tool node calls
them (a ToolCall with an injected ToolRuntime), on a real seeded SQLite domain."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

from agentgraph.context import Context
from agentgraph.domain.seed import seed_demo
from agentgraph.persistence import open_domain
from agentgraph.state import AssistantState
from agentgraph.tools import TOOLS, ToolServices, with_services

ALICE = "+250788000001"
BOB = "+250788000002"


@pytest.fixture
async def tools(sqlite_settings):
    async with open_domain(sqlite_settings) as domain:
        await seed_demo(domain)
        yield ToolServices(domain=domain, settings=sqlite_settings), domain


async def call(
    tools_and_domain,
    name: str,
    args: dict[str, Any] | None = None,
    user: str = ALICE,
    tenant: str = "easymo",
    call_id: str | None = None,
    turn: int = 1,
    staff: bool = False,
    email: str | None = None,
) -> Any:
    services, _ = tools_and_domain
    call_id = call_id or f"call-{name}"
    runtime = ToolRuntime(
        state=AssistantState(turns=turn, messages=[HumanMessage("request", id=f"in-{turn}")]),
        context=Context(
            tenant_id=tenant, user_id=user, channel="cli", staff=staff, customer_email=email
        ),
        config=with_services({"configurable": {"thread_id": f"chat:{tenant}:{user}"}}, services),
        stream_writer=lambda _: None,
        tool_call_id=call_id,
        store=None,
    )
    result = await TOOLS[name].ainvoke(
        {
            "type": "tool_call",
            "id": call_id,
            "name": name,
            "args": {**(args or {}), "runtime": runtime},
        }
    )
    if isinstance(result, ToolMessage):
        return result.content
    return result


async def test_balance_and_history(tools):
    assert await call(tools, "check_balance") == "Your wallet balance is 50,000 RWF."
    history = await call(tools, "transaction_history", {"limit": 5})
    assert "+50,000 RWF" in history
    assert (
        await call(tools, "check_balance", user="+250788999999") == "Your wallet balance is 0 RWF."
    )
    assert (
        await call(tools, "transaction_history", user="+250788999999")
        == "You have no transactions yet."
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"recipient_phone": "12", "amount": 100}, "not a valid phone number"),
        ({"recipient_phone": BOB, "amount": 0}, "positive number"),
        (
            {"recipient_phone": BOB, "amount": 600_000},
            "most you can send in one transfer is 500,000 RWF",
        ),
        ({"recipient_phone": ALICE, "amount": 100}, "cannot send money to yourself"),
        (
            {"recipient_phone": "+250788555555", "amount": 100},
            "No account is registered for +250788555555",
        ),
        (
            {"recipient_phone": BOB, "amount": 60_000},
            "not have enough money: your balance is 50,000 RWF",
        ),
    ],
)
async def test_transfer_refusals_never_ask_for_confirmation(tools, args, expected):
    answer = await call(tools, "transfer_money", args)
    assert expected in answer
    _, domain = tools
    assert await domain.wallets.balance("easymo", ALICE) == 50_000


async def test_trip_tools(tools):
    listing = await call(
        tools, "search_trips", {"origin": "kigali", "destination": "BUTARE", "date": "tomorrow"}
    )
    assert listing.startswith("Trips from Kigali to Huye on ")
    trip_id = int(listing.split("Trip ", 1)[1].split(":", 1)[0])
    assert "Kigali -> Huye" in await call(tools, "check_availability", {"trip_id": trip_id})
    assert "Trip 999999 was not found" in await call(
        tools, "check_availability", {"trip_id": 999999}
    )
    assert "Kigali" in await call(tools, "search_trips", {"origin": "Paris", "destination": "Huye"})
    assert "could not read the date" in await call(
        tools, "search_trips", {"origin": "Kigali", "destination": "Huye", "date": "someday"}
    )
    assert await call(tools, "list_bookings") == "You have no active bookings."
    # Booking itself pauses for a yes (tests/integration/test_assistant_flows.py);
    # what can refuse is answered before any question.
    _, domain = tools
    await domain.bookings.create("easymo", ALICE, trip_id, 2, "direct-booking")
    assert "Booking " in await call(tools, "list_bookings")
    assert "Trip 999999 was not found" in await call(tools, "create_booking", {"trip_id": 999999})
    poor = await call(
        tools, "create_booking", {"trip_id": trip_id, "seats": 1}, user="+250788999999"
    )
    assert poor == "Insufficient balance: you have 0 RWF but this needs 3,000 RWF."
    assert "Booking 424242 was not found" in await call(
        tools, "cancel_booking", {"booking_id": 424242}
    )


async def test_support_tools(tools):
    help_answer = await call(
        tools, "search_help_articles", {"query": "how do I send money to a friend"}
    )
    assert help_answer and "found no help article" not in help_answer
    nothing = await call(tools, "search_help_articles", {"query": "zzzz qqqq"})
    assert "found no help article" in nothing
    escalated = await call(
        tools,
        "create_ticket",
        {"subject": "Money missing", "description": "fraud on my account, urgent"},
    )
    # An urgent ticket hands the conversation to a person, like escalate_to_human.
    assert isinstance(escalated, Command) and escalated.update["escalated"] is True
    urgent = escalated.update["messages"][0].content
    assert "urgent priority" in urgent
    ticket_id = int(urgent.split("#", 1)[1].split(" ", 1)[0])
    assert f"Ticket #{ticket_id}" in await call(tools, "ticket_status", {"ticket_id": ticket_id})
    assert (
        "not found"
        in (await call(tools, "ticket_status", {"ticket_id": ticket_id}, user=BOB)).lower()
    )
    medium = await call(
        tools, "create_ticket", {"subject": "Question", "description": "where is the office"}
    )
    assert "medium priority" in medium


async def test_account_tools_use_the_seed_wording(tools):
    def staff_call(name, email):
        return call(tools, name, {"customer_email": email}, tenant="acme", staff=True)

    info = await staff_call("get_customer_info", "  ALICE@acme.test ")
    assert "alice@acme.test" in info
    missing = await staff_call("get_customer_info", "nobody@acme.test")
    assert missing == "No customer found with email: nobody@acme.test"
    subs = await staff_call("get_subscription_details", "alice@acme.test")
    assert subs.startswith("Subscriptions for alice@acme.test:")
    none = await staff_call("get_subscription_details", "carol@acme.test")
    assert none == "No subscriptions found for carol@acme.test"
    assert "overdue" in await staff_call("list_invoices", "bob@acme.test")
    asks = await call(tools, "list_invoices", {}, tenant="acme", staff=True)
    assert "Which customer" in asks


async def test_customers_see_only_their_own_account(tools):
    def as_alice(name, args):
        return call(tools, name, args, tenant="acme", email="Alice@acme.test")

    own = await as_alice("get_subscription_details", {})
    assert own.startswith("Subscriptions for alice@acme.test:")
    assert (await as_alice("list_invoices", {"customer_email": "alice@acme.test"})).startswith(
        "Invoices for alice@acme.test:"
    )
    other = await as_alice("list_invoices", {"customer_email": "bob@acme.test"})
    assert other == "For privacy I can only show the account registered to you."
    anonymous = await call(
        tools, "get_customer_info", {"customer_email": "bob@acme.test"}, tenant="acme"
    )
    assert "no email is linked to this conversation" in anonymous


async def test_profile_tools(tools):
    profile = await call(tools, "get_user_profile")
    assert "+2507******01" in profile and "English" in profile
    assert "Tell me what to change" in await call(tools, "update_preferences", {})
    french = await call(tools, "update_preferences", {"language": "fr"})
    assert "français" in french
    _, domain = tools
    assert (await domain.profiles.get("easymo", ALICE)).language == "fr"


async def test_escalation_returns_a_command_that_marks_the_thread(tools):
    command = await call(tools, "escalate_to_human", {"reason": "angry"})
    assert isinstance(command, Command)
    assert command.update["escalated"] is True
    assert "ticket #" in command.update["messages"][0].content
    _, domain = tools
    item = await domain.human_inbox.open_item("easymo", f"chat:easymo:{ALICE}")
    assert item is not None
    assert (item.status, item.source, item.priority, item.reason, item.channel) == (
        "waiting",
        "user",
        "medium",
        "angry",
        "cli",
    )
    again = await call(tools, "escalate_to_human", {"reason": "still angry"}, call_id="c2")
    assert isinstance(again, Command)
    assert await domain.human_inbox.items("easymo") == [item]


async def test_an_urgent_ticket_opens_an_urgent_inbox_item(tools):
    await call(tools, "create_ticket", {"subject": "Outage", "description": "the app is down"})
    _, domain = tools
    [item] = await domain.human_inbox.items("easymo")
    assert (item.source, item.priority, item.sla_due_at - item.created_at) == (
        "tool",
        "urgent",
        timedelta(hours=1),
    )
    assert item.reason.startswith("Urgent ticket #") and item.ticket_id is not None


async def test_handoff_returns_a_command_naming_the_agent(tools):
    command = await call(tools, "transfer_to_booking", {"reason": "trip"})
    assert isinstance(command, Command) and command.goto == "booking"
    assert command.update["active_agent"] == "booking"
