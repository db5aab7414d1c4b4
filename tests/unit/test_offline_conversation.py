"""The offline model across turns: asking for missing slots and filling them, trip
lists answered by number, tool results relayed as written, and the handoff loop guard.
"""

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from agentgraph.handoff import HANDOFF_DESTINATION
from tests.support.offline_tools import (
    TABLES,
    ask,
    only_call,
    reply,
)


@pytest.mark.parametrize(
    ("agent", "text", "expected"),
    [
        ("payment", "I want to send money", TABLES.ask("transfer", ["*"], "en", {})),
        ("payment", "je veux envoyer de l'argent", TABLES.ask("transfer", ["*"], "fr", {})),
        (
            "payment",
            "send money to 0788000002",
            "How much should I send to +250788000002? For example: 5000",
        ),
        (
            "booking",
            "I want to go to Huye",
            "Where will you leave from to go to Huye? For example: from Kigali",
        ),
        ("booking", "I want to book a bus", TABLES.ask("search_trips", ["*"], "en", {})),
        ("booking", "cancel my booking", TABLES.ask("cancel_booking", ["*"], "en", {})),
        ("support", "I want to report a problem", TABLES.ask("create_ticket", ["*"], "en", {})),
        (
            "support",
            "what's the status of my ticket?",
            TABLES.ask("ticket_status", ["*"], "en", {}),
        ),
    ],
)
def test_missing_slots_are_asked_for(agent, text, expected):
    message = ask(agent, text)
    assert not message.tool_calls
    assert message.content == expected


def test_transfer_ask_matches_the_documented_example():
    message = ask("payment", "send money")
    assert message.content == (
        "Who should I send the money to, and how much? For example: send 5000 to 0788000002"
    )


def test_slot_filling_continues_the_earlier_request():
    first = ask("payment", "I want to send money")
    message = ask("payment", "I want to send money", first, "5000 to 0788000002")
    assert only_call(message) == (
        "transfer_money",
        {"recipient_phone": "+250788000002", "amount": 5000},
    )


def test_slot_filling_merges_slots_over_several_turns():
    first = ask("payment", "send 3000")
    assert str(first.content).startswith("Who should I send 3000 RWF to?")
    message = ask("payment", "send 3000", first, "0788000004")
    assert only_call(message) == (
        "transfer_money",
        {"recipient_phone": "+250788000004", "amount": 3000},
    )


def test_slot_filling_fills_the_missing_origin():
    first = ask("booking", "bus to Kigali tomorrow")
    message = ask("booking", "bus to Kigali tomorrow", first, "Huye")
    assert only_call(message) == (
        "search_trips",
        {"origin": "Huye", "destination": "Kigali", "date": "tomorrow"},
    )


def test_ticket_description_after_being_asked():
    first = ask("support", "I have a problem")
    message = ask("support", "I have a problem", first, "The screen stays blank after login")
    assert only_call(message) == (
        "create_ticket",
        {
            "subject": "The screen stays blank after login",
            "description": "The screen stays blank after login",
        },
    )


def test_triage_routes_a_slot_only_answer_by_the_earlier_intent():
    asked = AIMessage("Who should I send the money to, and how much?")
    message = ask("triage", "send money", asked, "5000 to 0788000002")
    assert only_call(message) == ("transfer_to_payment", {"reason": "transfer"})


def test_a_finished_request_is_not_continued():
    call = AIMessage("", tool_calls=[{"name": "transfer_money", "args": {}, "id": "c1"}])
    done = ToolMessage("Sent 5,000 RWF.", tool_call_id="c1", name="transfer_money")
    history: list[BaseMessage | str] = [
        "send 5000 to 0788000002",
        call,
        done,
        AIMessage("Sent 5,000 RWF."),
        "12",
    ]
    message = ask("payment", *history)
    assert not message.tool_calls
    assert message.content == reply("fallback")


def _trip_listing() -> list[BaseMessage | str]:
    call = AIMessage(
        "",
        tool_calls=[
            {
                "name": "search_trips",
                "args": {"origin": "Kigali", "destination": "Huye"},
                "id": "s1",
            }
        ],
    )
    result = ToolMessage(
        "Trips from Kigali to Huye:\n- Trip 12: Mon 10:00\n- Trip 13: Mon 14:00",
        tool_call_id="s1",
        name="search_trips",
    )
    return ["bus from Kigali to Huye", call, result, AIMessage(result.content)]


def test_a_bare_number_after_a_trip_list_books_that_trip():
    message = ask("booking", *_trip_listing(), "12")
    assert only_call(message) == ("create_booking", {"trip_id": 12})


def test_a_bare_number_after_a_booking_is_not_a_trip():
    call = AIMessage("", tool_calls=[{"name": "create_booking", "args": {}, "id": "c1"}])
    booked = ToolMessage(
        "Booked: booking 2, 1 seat(s) on trip 37.", tool_call_id="c1", name="create_booking"
    )
    history = [*_trip_listing(), "37", call, booked, AIMessage(booked.content), "3"]
    message = ask("booking", *history)
    assert not message.tool_calls
    assert message.content == reply("fallback")


def test_a_listing_without_tool_messages_still_counts():
    listing = AIMessage("Trips:\n- Trip 12: 07:00\n- Trip 13: 12:00\nReply 'book trip <number>'.")
    message = ask("booking", "bus from Kigali to Huye", listing, "13")
    assert only_call(message) == ("create_booking", {"trip_id": 13})


def test_book_trip_after_a_trip_list():
    message = ask("booking", *_trip_listing(), "book trip 13 for 2 people")
    assert only_call(message) == ("create_booking", {"trip_id": 13, "seats": 2})


def test_a_new_date_refines_the_last_search():
    message = ask("booking", *_trip_listing(), "and tomorrow?")
    assert only_call(message) == (
        "search_trips",
        {"origin": "Kigali", "destination": "Huye", "date": "tomorrow"},
    )


def test_a_quick_lookup_does_not_interrupt_a_search():
    call = AIMessage("", tool_calls=[{"name": "check_balance", "args": {}, "id": "b1"}])
    result = ToolMessage("Your balance is 9,000 RWF.", tool_call_id="b1", name="check_balance")
    history = [*_trip_listing(), "what's my balance first?", call, result, AIMessage("9,000")]
    message = ask("booking", *history, "and tomorrow?")
    assert only_call(message) == (
        "search_trips",
        {"origin": "Kigali", "destination": "Huye", "date": "tomorrow"},
    )


def test_book_it_after_checking_availability():
    call = AIMessage("", tool_calls=[{"name": "check_availability", "args": {}, "id": "a1"}])
    result = ToolMessage("Trip 12: 20 seats left.", tool_call_id="a1", name="check_availability")
    message = ask("booking", "is trip 12 available?", call, result, AIMessage("ok"), "book it")
    assert only_call(message) == ("create_booking", {"trip_id": 12})


def test_tool_results_are_relayed_as_written():
    call = AIMessage("", tool_calls=[{"name": "check_balance", "args": {}, "id": "b1"}])
    result = ToolMessage("Your balance is 12,000 RWF.", tool_call_id="b1", name="check_balance")
    message = ask("payment", "balance", call, result)
    assert not message.tool_calls
    assert message.content == "Your balance is 12,000 RWF."


def test_several_tool_results_are_joined_with_blank_lines():
    call = AIMessage(
        "",
        tool_calls=[
            {"name": "check_balance", "args": {}, "id": "b1"},
            {"name": "list_bookings", "args": {}, "id": "l1"},
        ],
    )
    first = ToolMessage("Your balance is 12,000 RWF.", tool_call_id="b1")
    second = ToolMessage("You have no active bookings.", tool_call_id="l1")
    message = ask("booking", "balance and bookings", call, first, second)
    assert message.content == "Your balance is 12,000 RWF.\n\nYou have no active bookings."


def test_a_tool_message_about_a_missing_slot_is_still_relayed():
    call = AIMessage("", tool_calls=[{"name": "search_trips", "args": {}, "id": "s1"}])
    result = ToolMessage(
        "I could not read the date '31/02'.", tool_call_id="s1", name="search_trips", status="error"
    )
    message = ask("booking", "bus Kigali Huye 31/02", call, result)
    assert message.content == "I could not read the date '31/02'."


def test_framework_errors_are_not_shown_to_the_user():
    call = AIMessage("", tool_calls=[{"name": "check_balance", "args": {}, "id": "b1"}])
    result = ToolMessage(
        "Error: ValueError('boom')\n Please fix your mistakes.",
        tool_call_id="b1",
        name="check_balance",
        status="error",
    )
    assert ask("payment", "balance", call, result).content == reply("tool_failed")


def test_the_specialist_acts_after_a_handoff():
    call = AIMessage("", tool_calls=[{"name": "transfer_to_payment", "args": {}, "id": "h1"}])
    moved = ToolMessage(
        "Transferred to payment.",
        tool_call_id="h1",
        name="transfer_to_payment",
        response_metadata={HANDOFF_DESTINATION: "payment"},
    )
    message = ask("payment", "what's my balance", call, moved)
    assert only_call(message) == ("check_balance", {})


def test_loop_guard_stops_handing_off_after_two_handoffs():
    history: list[BaseMessage | str] = ["what's my balance"]
    for n, agent in enumerate(("support", "triage")):
        call_id = f"h{n}"
        name = f"transfer_to_{agent}"
        history.append(AIMessage("", tool_calls=[{"name": name, "args": {}, "id": call_id}]))
        history.append(
            ToolMessage(
                f"Transferred to {agent}.",
                tool_call_id=call_id,
                name=name,
                response_metadata={HANDOFF_DESTINATION: agent},
            )
        )
    message = ask("triage", *history)
    assert not message.tool_calls
    assert message.content == reply("unavailable")


def test_a_refused_handoff_is_not_retried():
    call = AIMessage("", tool_calls=[{"name": "transfer_to_payment", "args": {}, "id": "h1"}])
    refused = ToolMessage(
        "No further handoff now; answer the user directly.",
        tool_call_id="h1",
        name="transfer_to_payment",
        status="error",
        response_metadata={HANDOFF_DESTINATION: "payment"},
    )
    message = ask("triage", "what's my balance", call, refused)
    assert not message.tool_calls
    assert message.content == reply("unavailable")


def test_loop_guard_answers_the_menu_itself():
    history: list[BaseMessage | str] = ["menu"]
    for n in range(2):
        name = "transfer_to_triage"
        history.append(AIMessage("", tool_calls=[{"name": name, "args": {}, "id": f"h{n}"}]))
        history.append(
            ToolMessage(
                "Transferred.",
                tool_call_id=f"h{n}",
                name=name,
                response_metadata={HANDOFF_DESTINATION: "triage"},
            )
        )
    message = ask("support", *history)
    assert message.content == reply("menu")
