"""The assistant graph end to end on real databases with scripted models.

Each test scripts the exact tool calls a model would make and asserts what the user
sees and what the domain recorded (balances, bookings), on SQLite and Postgres.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.types import Command

from agentgraph.clock import ManualClock
from agentgraph.context import Context
from agentgraph.testing import ScriptedChatModel, tool_call

ALICE = "+250788000001"
BOB = "+250788000002"


EXPIRED = [
    "Transferred to payment.",
    "That confirmation expired, so nothing was changed. Ask again if you still want it.",
]


def say(text: str) -> AIMessage:
    return AIMessage(content=text)


async def balance(assistant, phone: str) -> int:
    return await assistant.persistence.domain.wallets.balance("easymo", phone)


async def test_transfer_requires_confirmation(any_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": "0788000002", "amount": 5000}, "t1"),
            say("Sent."),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        asked = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation
        assert "5,000 RWF" in asked.replies[-1] and "YES" in asked.replies[-1]
        assert await balance(assistant, ALICE) == 50_000
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert not done.awaiting_confirmation
        assert done.replies == ["Sent."]
        assert await balance(assistant, ALICE) == 45_000
        assert await balance(assistant, BOB) == 55_000


async def test_declined_transfer_moves_nothing(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            say("Okay, cancelled."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        result = await assistant.send("no", user=ALICE, tenant="easymo")
        assert result.replies == ["Okay, cancelled."]
        assert not result.awaiting_confirmation
        assert await balance(assistant, ALICE) == 50_000
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}}
        )
        tool_results = [
            (m.name, m.content) for m in state.values["messages"] if isinstance(m, ToolMessage)
        ]
        assert tool_results == [
            ("transfer_to_payment", "Transferred to payment."),
            ("transfer_money", "Okay, I cancelled it. Nothing was changed."),
        ]


async def test_other_message_while_confirming_cancels_and_is_answered(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            say("Transfer cancelled."),
            tool_call("check_balance", {}, "b1"),
            say("Your balance is 50,000 RWF."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        result = await assistant.send("actually what's my balance", user=ALICE, tenant="easymo")
        assert result.replies == ["Transfer cancelled.", "Your balance is 50,000 RWF."]
        assert not result.awaiting_confirmation
        # A late "yes" now has nothing to confirm: it goes to the model as a plain message.
        model.responses.append(say("There is nothing waiting for your confirmation."))
        late = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert late.replies == ["There is nothing waiting for your confirmation."]
        assert await balance(assistant, ALICE) == 50_000


async def test_second_yes_after_completion_moves_nothing(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            say("Sent."),
            say("There is nothing to confirm."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        await assistant.send("yes", user=ALICE, tenant="easymo")
        again = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert again.replies == ["There is nothing to confirm."]
        assert await balance(assistant, ALICE) == 45_000


async def test_expired_confirmation_moves_nothing(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            say("That expired."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        late = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        config = {
            "configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}
        }
        await assistant.graph.ainvoke(
            Command(resume={"answer": "yes", "at": late}),
            config,
            context=Context(tenant_id="easymo", user_id=ALICE, channel="cli"),
        )
        state = await assistant.graph.aget_state(config)
        results = [m.content for m in state.values["messages"] if isinstance(m, ToolMessage)]
        assert results == EXPIRED
        assert await balance(assistant, ALICE) == 50_000


async def test_cancellation_refunds_once(any_settings, open_seeded):
    async with open_seeded(any_settings, None) as assistant:
        domain = assistant.persistence.domain
        trips = await domain.trips.search("easymo", "Kigali", "Huye", None)
        trip = trips[0]
        model = ScriptedChatModel(
            responses=[
                tool_call("transfer_to_booking", {}, "h1"),
                tool_call("create_booking", {"trip_id": trip.id, "seats": 2}, "b1"),
                say("Booked."),
            ]
        )
    async with open_seeded(any_settings, model) as assistant:
        domain = assistant.persistence.domain
        asked = await assistant.send(f"book trip {trip.id} for 2", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation and asked.confirmation["details"]["seats"] == 2
        assert await domain.bookings.list_for("easymo", ALICE) == []
        await assistant.send("yes", user=ALICE, tenant="easymo")
        booking = (await domain.bookings.list_for("easymo", ALICE))[0]
        paid = 50_000 - 2 * trip.price
        assert await balance(assistant, ALICE) == paid
        model.responses += [
            tool_call("cancel_booking", {"booking_id": booking.id}, "x1"),
            say("Cancelled."),
            tool_call("cancel_booking", {"booking_id": booking.id}, "x2"),
            say("Already cancelled."),
        ]
        asked = await assistant.send(f"cancel booking {booking.id}", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation and "refund" in asked.replies[-1]
        await assistant.send("yes", user=ALICE, tenant="easymo")
        assert await balance(assistant, ALICE) == 50_000
        again = await assistant.send(f"cancel booking {booking.id}", user=ALICE, tenant="easymo")
        assert not again.awaiting_confirmation
        assert await balance(assistant, ALICE) == 50_000
        seats = (await domain.trips.get("easymo", trip.id)).seats_available
        assert seats == trip.seats_available


async def test_escalated_conversation_gets_no_bot_replies_until_released(any_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_support", {}, "h1"),
            tool_call("escalate_to_human", {"reason": "wants a person"}, "e1"),
            say("A person will reply."),
            say("Welcome back."),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        first = await assistant.send("I want to talk to a person", user=ALICE, tenant="easymo")
        assert first.escalated and first.replies == ["A person will reply."]
        silent = await assistant.send("hello? anyone?", user=ALICE, tenant="easymo")
        assert silent.replies == [] and silent.escalated
        await assistant.runner.release(await assistant.thread_id("cli", "easymo", ALICE))
        back = await assistant.send("thanks", user=ALICE, tenant="easymo")
        assert back.replies == ["Welcome back."] and not back.escalated
        assert model.remaining == 0


async def test_topic_switch_keeps_history(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_booking", {}, "h1"),
            say("Where to?"),
            tool_call("transfer_to_payment", {"reason": "balance"}, "h2"),
            tool_call("check_balance", {}, "b1"),
            say("50,000 RWF."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("I need a bus", user=ALICE, tenant="easymo")
        switched = await assistant.send(
            "wait, what's my balance first?", user=ALICE, tenant="easymo"
        )
        assert switched.agent == "payment" and switched.replies == ["50,000 RWF."]
        seen_by_payment = model.calls[-1]
        texts = [str(m.content) for m in seen_by_payment]
        assert "I need a bus" in texts and "Where to?" in texts


async def test_yes_after_the_deadline_moves_nothing(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            say("That request expired."),
        ]
    )
    clock = ManualClock(datetime.now(UTC))
    async with open_seeded(sqlite_settings, model, clock=clock) as assistant:
        asked = await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation
        clock.advance(timedelta(hours=2))  # the user answers after the deadline
        late = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert late.replies == ["That request expired."]
        assert await balance(assistant, ALICE) == 50_000
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}}
        )
        results = [str(m.content) for m in state.values["messages"] if isinstance(m, ToolMessage)]
        assert results == EXPIRED


async def test_plain_yes_resume_after_the_deadline_moves_nothing(sqlite_settings, open_seeded):
    """Studio and the SDK resume with a bare string; the deadline still holds."""
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            say("Expired."),
        ]
    )
    clock = ManualClock(datetime.now(UTC))
    async with open_seeded(sqlite_settings, model, clock=clock) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        clock.advance(timedelta(hours=2))
        config = {
            "configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}
        }
        await assistant.graph.ainvoke(
            Command(resume="yes"), config, context=Context(tenant_id="easymo", user_id=ALICE)
        )
        assert await balance(assistant, ALICE) == 50_000


async def test_a_re_asked_confirmation_is_closed_before_the_new_message(
    sqlite_settings, open_seeded
):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            # On the superseded answer the model stubbornly asks again...
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t2"),
            say("Cancelled."),
            tool_call("check_balance", {}, "b1"),
            say("50,000 RWF."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        result = await assistant.send("what's my balance", user=ALICE, tenant="easymo")
        assert result.replies[-1] == "50,000 RWF."
        assert not result.awaiting_confirmation
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}}
        )
        assert not state.interrupts
        answered = {m.tool_call_id for m in state.values["messages"] if isinstance(m, ToolMessage)}
        asked = {
            c["id"]
            for m in state.values["messages"]
            if isinstance(m, AIMessage)
            for c in m.tool_calls
        }
        assert asked <= answered, "every tool call has its result in history"
        assert await balance(assistant, ALICE) == 50_000


async def test_user_learns_the_transfer_happened_even_if_the_model_then_fails(
    sqlite_settings, open_seeded
):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 5000}, "t1"),
            # no answer scripted after the transfer: the model call raises
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.send("send 5000 to bob", user=ALICE, tenant="easymo")
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert done.error
        assert done.replies and done.replies[0].startswith("Done: sent 5,000 RWF")
        assert await balance(assistant, ALICE) == 45_000


async def test_bad_tool_arguments_go_back_to_the_model(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_booking", {}, "h1"),
            tool_call("create_booking", {"trip_id": 1, "seats": 99}, "b1"),
            say("How many seats, between 1 and 10?"),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        result = await assistant.send("book 99 seats", user=ALICE, tenant="easymo")
        assert result.replies == ["How many seats, between 1 and 10?"]
        seen = model.calls[-1]
        error = next(m for m in seen if isinstance(m, ToolMessage) and m.tool_call_id == "b1")
        assert "seats" in str(error.content) and "temporary problem" not in str(error.content)


async def test_a_state_store_failure_is_answered_not_raised(sqlite_settings, open_seeded):
    async with open_seeded(sqlite_settings) as assistant:

        async def broken(*args, **kwargs):
            raise ConnectionError("database went away")

        assistant.runner.graph.checkpointer.aget_tuple = broken  # type: ignore[union-attr]
        result = await assistant.send("hello", user=ALICE, tenant="easymo")
        assert result.error and result.replies


async def test_a_booking_asks_first_and_a_replanned_one_is_charged_once(
    sqlite_settings, open_seeded
):
    """Booking shows trip, time and price and waits for a yes; a model that asks to
    book the same trip again for the same message (under a new call id) is told it is
    booked, without a second question or charge; a new message may book again."""
    async with open_seeded(sqlite_settings, None) as assistant:
        trip = (
            await assistant.persistence.domain.trips.search("easymo", "Kigali", "Musanze", None)
        )[0]
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_booking", {}, "h1"),
            tool_call("create_booking", {"trip_id": trip.id}, "a"),
            tool_call("create_booking", {"trip_id": trip.id}, "b"),
            say("Booked."),
            tool_call("create_booking", {"trip_id": trip.id}, "c"),
            say("Booked again."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        domain = assistant.persistence.domain
        asked = await assistant.send(f"book trip {trip.id}", user=ALICE, tenant="easymo")
        prompt = asked.replies[-1]
        assert asked.awaiting_confirmation
        assert f"trip {trip.id}" in prompt and f"{trip.price:,} RWF" in prompt
        assert await balance(assistant, ALICE) == 50_000
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert done.replies == ["Booked."] and not done.awaiting_confirmation
        results = await _tool_results(assistant, "create_booking")
        assert len(results) == 2 and results[0] == results[1]  # the re-plan was answered
        assert results[0].startswith("Booked: booking")
        assert await balance(assistant, ALICE) == 50_000 - trip.price
        assert len(await domain.bookings.list_for("easymo", ALICE)) == 1
        await assistant.send(f"book trip {trip.id} again", user=ALICE, tenant="easymo")
        await assistant.send("yes", user=ALICE, tenant="easymo")
        assert await balance(assistant, ALICE) == 50_000 - 2 * trip.price
        assert len(await domain.bookings.list_for("easymo", ALICE)) == 2


async def _tool_results(assistant, name: str) -> list[str]:
    state = await assistant.graph.aget_state(
        {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}}
    )
    return [
        str(m.content)
        for m in state.values["messages"]
        if isinstance(m, ToolMessage) and m.name == name
    ]
