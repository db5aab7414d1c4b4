"""The offline chat model plays each agent from its bound tools and the conversation.

Tools here are stubs with the contract's names and arguments (docs/architecture.md);
the model only sees their schemas. Each test asserts the exact tool call or the kind
of text reply the model produces.
"""

from datetime import UTC, date, datetime

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

from agentgraph.clock import KIGALI, ManualClock
from agentgraph.handoff import HANDOFF_DESTINATION
from agentgraph.models.offline import OfflineChatModel
from agentgraph.models.offline.tables import load_tables


@tool
def check_balance() -> str:
    """Show the wallet balance."""
    return ""


@tool
def transaction_history(limit: int = 5) -> str:
    """Recent wallet transactions."""
    return ""


@tool
def transfer_money(recipient_phone: str, amount: int, note: str | None = None) -> str:
    """Send money to a phone number."""
    return ""


@tool
def search_trips(origin: str, destination: str, date: str | None = None) -> str:
    """Find bus trips."""
    return ""


@tool
def check_availability(trip_id: int) -> str:
    """Seats left on a trip."""
    return ""


@tool
def create_booking(trip_id: int, seats: int = 1) -> str:
    """Book seats on a trip."""
    return ""


@tool
def cancel_booking(booking_id: int) -> str:
    """Cancel a booking."""
    return ""


@tool
def list_bookings() -> str:
    """The user's bookings."""
    return ""


@tool
def search_help_articles(query: str) -> str:
    """Search the help centre."""
    return ""


@tool
def create_ticket(subject: str, description: str, priority: str | None = None) -> str:
    """Open a support ticket."""
    return ""


@tool
def ticket_status(ticket_id: int) -> str:
    """Status of a ticket."""
    return ""


@tool
def get_customer_info(customer_email: str) -> str:
    """Customer record by email."""
    return ""


@tool
def get_subscription_details(customer_email: str) -> str:
    """Subscriptions by email."""
    return ""


@tool
def list_invoices(customer_email: str) -> str:
    """Invoices by email."""
    return ""


@tool
def get_user_profile() -> str:
    """The user's profile."""
    return ""


@tool
def update_preferences(language: str | None = None, name: str | None = None) -> str:
    """Change language or name."""
    return ""


@tool
def escalate_to_human(reason: str) -> str:
    """Hand the user to a human."""
    return ""


def _handoff(agent: str) -> BaseTool:
    def handoff(reason: str | None = None) -> str:
        return f"Transferred to {agent}."

    handoff.__doc__ = f"Hand the conversation to {agent}."
    made = tool(f"transfer_to_{agent}")(handoff)
    made.metadata = {HANDOFF_DESTINATION: agent}
    return made


HANDOFFS = {a: _handoff(a) for a in ("triage", "booking", "payment", "support")}
COMMON = [get_user_profile, update_preferences, escalate_to_human]
TOOLS: dict[str, list[BaseTool]] = {
    "triage": [HANDOFFS["booking"], HANDOFFS["payment"], HANDOFFS["support"]],
    "payment": [
        check_balance,
        transaction_history,
        transfer_money,
        *COMMON,
        HANDOFFS["triage"],
        HANDOFFS["booking"],
        HANDOFFS["support"],
    ],
    "booking": [
        search_trips,
        check_availability,
        create_booking,
        cancel_booking,
        list_bookings,
        check_balance,
        *COMMON,
        HANDOFFS["triage"],
        HANDOFFS["payment"],
        HANDOFFS["support"],
    ],
    "support": [
        search_help_articles,
        create_ticket,
        ticket_status,
        get_customer_info,
        get_subscription_details,
        list_invoices,
        *COMMON,
        HANDOFFS["triage"],
        HANDOFFS["booking"],
        HANDOFFS["payment"],
    ],
}
TABLES = load_tables()


def model_for(agent: str) -> OfflineChatModel:
    return OfflineChatModel().bind_tools(TOOLS[agent])


def ask(agent: str, *messages: BaseMessage | str) -> AIMessage:
    history = [HumanMessage(m) if isinstance(m, str) else m for m in messages]
    return model_for(agent).invoke([SystemMessage("You are helpful."), *history])


def only_call(message: AIMessage) -> tuple[str, dict]:
    assert not message.content, message.content
    assert len(message.tool_calls) == 1, message.tool_calls
    call = message.tool_calls[0]
    assert call["id"]
    return call["name"], call["args"]


def reply(key: str, lang: str = "en") -> str:
    return TABLES.reply(key, lang)


def kigali_today() -> date:
    return datetime.now(UTC).astimezone(KIGALI).date()


def christmas() -> str:
    today = kigali_today()
    day = date(today.year, 12, 25)
    return (day if day >= today else date(today.year + 1, 12, 25)).isoformat()


# (agent, user message, expected tool, expected args)
SPECIALIST_CALLS = [
    # payment
    ("payment", "what's my balance?", "check_balance", {}),
    ("payment", "quel est mon solde ?", "check_balance", {}),
    ("payment", "how much money do I have", "check_balance", {}),
    ("payment", "show my transactions", "transaction_history", {}),
    ("payment", "last 3 transactions", "transaction_history", {"limit": 3}),
    ("payment", "historique", "transaction_history", {}),
    (
        "payment",
        "send 5000 to 0788000002",
        "transfer_money",
        {"recipient_phone": "+250788000002", "amount": 5000},
    ),
    (
        "payment",
        "send 5,000 to +250788000002",
        "transfer_money",
        {"recipient_phone": "+250788000002", "amount": 5000},
    ),
    (
        "payment",
        "transfer 5k to 250788000002",
        "transfer_money",
        {"recipient_phone": "+250788000002", "amount": 5000},
    ),
    (
        "payment",
        "Send RWF 5 000 to 078 800 0002",
        "transfer_money",
        {"recipient_phone": "+250788000002", "amount": 5000},
    ),
    (
        "payment",
        "pay 0788000003 2500 frw for lunch",
        "transfer_money",
        {"recipient_phone": "+250788000003", "amount": 2500, "note": "lunch"},
    ),
    (
        "payment",
        "envoie cinq mille francs à 0788000002",
        "transfer_money",
        {"recipient_phone": "+250788000002", "amount": 5000},
    ),
    (
        "payment",
        "Envoyer 2000 à 0788000003",
        "transfer_money",
        {"recipient_phone": "+250788000003", "amount": 2000},
    ),
    # booking
    (
        "booking",
        "bus from Kigali to Huye tomorrow",
        "search_trips",
        {"origin": "Kigali", "destination": "Huye", "date": "tomorrow"},
    ),
    (
        "booking",
        "bus de Kigali à Huye demain",
        "search_trips",
        {"origin": "Kigali", "destination": "Huye", "date": "tomorrow"},
    ),
    (
        "booking",
        "trips Kigali to Musanze on Friday",
        "search_trips",
        {"origin": "Kigali", "destination": "Musanze", "date": "friday"},
    ),
    (
        "booking",
        "Butare - Ruhengeri 2025-07-01",
        "search_trips",
        {"origin": "Huye", "destination": "Musanze", "date": "2025-07-01"},
    ),
    (
        "booking",
        "je veux aller de Gisenyi à Kigali aujourd'hui",
        "search_trips",
        {"origin": "Rubavu", "destination": "Kigali", "date": "today"},
    ),
    (
        "booking",
        "from Huye to Kigali on 25/12",
        "search_trips",
        {"origin": "Huye", "destination": "Kigali", "date": christmas()},
    ),
    (
        "booking",
        "trajets entre Kigali et Musanze",
        "search_trips",
        {"origin": "Kigali", "destination": "Musanze"},
    ),
    ("booking", "is trip 12 available?", "check_availability", {"trip_id": 12}),
    ("booking", "how many seats left on trip 4", "check_availability", {"trip_id": 4}),
    ("booking", "book trip 12", "create_booking", {"trip_id": 12}),
    ("booking", "book 12", "create_booking", {"trip_id": 12}),
    ("booking", "book 2 seats on trip #12", "create_booking", {"trip_id": 12, "seats": 2}),
    ("booking", "réserver 2 places sur le trajet 5", "create_booking", {"trip_id": 5, "seats": 2}),
    ("booking", "cancel booking 3", "cancel_booking", {"booking_id": 3}),
    ("booking", "annuler la réservation 3", "cancel_booking", {"booking_id": 3}),
    ("booking", "my bookings", "list_bookings", {}),
    ("booking", "mes réservations", "list_bookings", {}),
    ("booking", "check my balance", "check_balance", {}),
    # support
    (
        "support",
        "How do I reset my PIN?",
        "search_help_articles",
        {"query": "How do I reset my PIN?"},
    ),
    (
        "support",
        "comment changer mon code PIN ?",
        "search_help_articles",
        {"query": "comment changer mon code PIN ?"},
    ),
    (
        "support",
        "The app is not working since this morning",
        "create_ticket",
        {
            "subject": "The app is not working since this morning",
            "description": "The app is not working since this morning",
        },
    ),
    (
        "support",
        "mon paiement a échoué. J'ai perdu 5000",
        "create_ticket",
        {
            "subject": "Mon paiement a échoué.",
            "description": "mon paiement a échoué. J'ai perdu 5000",
        },
    ),
    ("support", "status of ticket 7", "ticket_status", {"ticket_id": 7}),
    ("support", "ticket #7 ?", "ticket_status", {"ticket_id": 7}),
    (
        "support",
        "customer info for alice@example.com",
        "get_customer_info",
        {"customer_email": "alice@example.com"},
    ),
    (
        "support",
        "what subscription does bob@example.com have?",
        "get_subscription_details",
        {"customer_email": "bob@example.com"},
    ),
    (
        "support",
        "factures de bob@example.com",
        "list_invoices",
        {"customer_email": "bob@example.com"},
    ),
    ("support", "show my profile", "get_user_profile", {}),
    ("payment", "mon profil", "get_user_profile", {}),
    ("support", "change my language to French", "update_preferences", {"language": "fr"}),
    ("booking", "parle anglais s'il te plait", "update_preferences", {"language": "en"}),
    ("payment", "call me alice", "update_preferences", {"name": "Alice"}),
    ("support", "je m'appelle Jean-Pierre", "update_preferences", {"name": "Jean-Pierre"}),
    (
        "support",
        "I want to talk to a human",
        "escalate_to_human",
        {"reason": "I want to talk to a human"},
    ),
    (
        "booking",
        "je veux parler à un agent humain",
        "escalate_to_human",
        {"reason": "je veux parler à un agent humain"},
    ),
]


@pytest.mark.parametrize(("agent", "text", "tool_name", "args"), SPECIALIST_CALLS)
def test_specialist_calls_its_tool_with_extracted_slots(agent, text, tool_name, args):
    assert only_call(ask(agent, text)) == (tool_name, args)


# (user message, agent triage hands off to, reason)
TRIAGE_ROUTES = [
    ("what's my balance", "payment", "balance"),
    ("send 5000 to 0788000002", "payment", "transfer"),
    ("j'aimerais voir mon historique", "payment", "history"),
    ("I need a bus to Huye", "booking", "search_trips"),
    ("book trip 12", "booking", "book"),
    ("cancel my booking", "booking", "cancel_booking"),
    ("mes réservations", "booking", "list_bookings"),
    ("is trip 4 still available?", "booking", "availability"),
    ("how do I change my PIN?", "support", "help_article"),
    ("my money never arrived, this is a problem", "support", "create_ticket"),
    ("any update on ticket 7?", "support", "ticket_status"),
    ("invoices for alice@example.com", "support", "invoices"),
    ("I want to speak to a real person", "support", "escalate"),
    ("call me Alice", "support", "update_preferences"),
]


@pytest.mark.parametrize(("text", "agent", "reason"), TRIAGE_ROUTES)
def test_triage_hands_off_to_the_owning_agent(text, agent, reason):
    assert only_call(ask("triage", text)) == (f"transfer_to_{agent}", {"reason": reason})


# (specialist, user message, handoff target, reason): a topic switch mid-conversation
TOPIC_SWITCHES = [
    ("payment", "actually I want to book a bus to Musanze", "booking", "search_trips"),
    ("payment", "my app keeps crashing", "support", "create_ticket"),
    ("booking", "send 2000 to 0788000002", "payment", "transfer"),
    ("booking", "show me my transaction history", "payment", "history"),
    ("support", "bus from Kigali to Rubavu", "booking", "search_trips"),
    ("support", "what's my balance?", "payment", "balance"),
    ("support", "menu", "triage", "help"),
    ("booking", "hello", "triage", "greeting"),
]


@pytest.mark.parametrize(("agent", "text", "target", "reason"), TOPIC_SWITCHES)
def test_specialist_hands_off_other_topics(agent, text, target, reason):
    assert only_call(ask(agent, text)) == (f"transfer_to_{target}", {"reason": reason})


@pytest.mark.parametrize(
    ("text", "lang"),
    [("hi", "en"), ("hello!", "en"), ("menu", "en"), ("what can you do?", "en"), ("Bonjour", "fr"),
     ("aide", "fr"), ("que pouvez-vous faire ?", "fr")],
)  # fmt: skip
def test_triage_answers_greeting_and_menu_in_the_users_language(text, lang):
    message = ask("triage", text)
    assert not message.tool_calls
    assert message.content == reply("menu", lang)


@pytest.mark.parametrize(
    ("text", "key", "lang"),
    [("thanks!", "thanks", "en"), ("merci beaucoup", "thanks", "fr"), ("bye", "goodbye", "en"),
     ("au revoir", "goodbye", "fr"), ("yes", "nothing_pending", "en"),
     ("oui", "nothing_pending", "fr"), ("no", "nothing_pending", "en")],
)  # fmt: skip
def test_small_talk_gets_a_short_polite_reply(text, key, lang):
    for agent in ("triage", "payment"):
        message = ask(agent, text)
        assert not message.tool_calls
        assert message.content == reply(key, lang)


@pytest.mark.parametrize("agent", ["triage", "booking", "payment", "support"])
def test_gibberish_gets_a_helpful_reply(agent):
    message = ask(agent, "asdkjh qwe zzz")
    assert not message.tool_calls
    assert message.content == reply("fallback")
    assert "balance" in message.content


def test_french_gibberish_gets_the_french_fallback():
    message = ask("triage", "je ne sais pas trop quoi dire")
    assert message.content == reply("fallback", "fr")


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


def test_an_unbound_tool_is_never_called():
    model = OfflineChatModel().bind_tools([search_help_articles, HANDOFFS["triage"]])
    message = model.invoke([HumanMessage("send 5000 to 0788000002")])
    assert not message.tool_calls
    assert message.content == reply("unavailable")


def test_a_model_without_tools_only_talks():
    answers = {
        "send 5000 to 0788000002": reply("unavailable"),
        "hello": reply("menu"),
        "xyzzy": reply("fallback"),
    }
    for text, expected in answers.items():
        message = OfflineChatModel().invoke([HumanMessage(text)])
        assert message.tool_calls == []
        assert message.content == expected
    assert reply("unavailable") == (
        'Sorry, I can\'t do that from here. Say "menu" to see what I can help you with.'
    )
    assert reply("menu").startswith("Hello! I'm your assistant. I can help you:\n")


def test_role_is_inferred_from_tools_and_agent_line():
    assert OfflineChatModel().bind_tools(TOOLS["triage"]).infer_role() == "triage"
    assert model_for("booking").infer_role() == "booking"
    assert model_for("payment").infer_role() == "payment"
    assert model_for("support").infer_role() == "support"
    bare = OfflineChatModel()
    assert bare.infer_role([SystemMessage("agent: support\nYou help.")]) == "support"
    assert OfflineChatModel(role="booking").infer_role() == "booking"


def test_agent_line_makes_a_toolless_specialist_hand_menus_to_triage():
    model = OfflineChatModel().bind_tools([check_balance, HANDOFFS["triage"]])
    message = model.invoke([SystemMessage("agent: payment"), HumanMessage("menu")])
    assert only_call(message) == ("transfer_to_triage", {"reason": "help"})


def test_message_metadata_and_usage():
    message = ask("payment", "what's my balance?")
    assert message.response_metadata == {"model_name": "offline"}
    usage = message.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert OfflineChatModel()._llm_type == "agentgraph-offline"


def test_output_is_deterministic():
    transfer = ("transfer_money", {"recipient_phone": "+250788000002", "amount": 5000})
    answers = [ask("payment", "send 5000 to 0788000002") for _ in range(3)]
    assert [only_call(message) for message in answers] == [transfer] * 3
    # The same conversation gives the same call id too (it is derived, not random).
    assert len({message.tool_calls[0]["id"] for message in answers}) == 1


def test_bind_tools_accepts_dicts_and_functions_and_remembers_schemas():
    def ticket_status(ticket_id: int) -> str:
        """Status of a ticket."""
        return ""

    schema = {
        "type": "function",
        "function": {
            "name": "get_customer_info",
            "description": "Customer record by email.",
            "parameters": {
                "type": "object",
                "properties": {"customer_email": {"type": "string"}},
                "required": ["customer_email"],
            },
        },
    }
    model = OfflineChatModel().bind_tools([ticket_status, schema])
    assert set(model.tool_schemas) == {"ticket_status", "get_customer_info"}
    assert "ticket_id" in model.tool_schemas["ticket_status"]["properties"]
    message = model.invoke([HumanMessage("status of ticket 9")])
    assert only_call(message) == ("ticket_status", {"ticket_id": 9})


async def test_async_and_streaming_give_the_same_answer():
    model = model_for("booking")
    messages = [HumanMessage("bus from Kigali to Huye tomorrow")]
    search = ("search_trips", {"origin": "Kigali", "destination": "Huye", "date": "tomorrow"})
    chunks = [chunk async for chunk in model.astream(messages)]
    assert len(chunks) == 1
    for answer in (model.invoke(messages), await model.ainvoke(messages), chunks[0]):
        assert answer.content == ""
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == [search]


async def test_async_and_streaming_relay_the_same_text():
    model = model_for("payment")
    messages = [
        HumanMessage("what's my balance?"),
        AIMessage("", tool_calls=[{"name": "check_balance", "args": {}, "id": "c1"}]),
        ToolMessage("Your balance is 50,000 RWF.", tool_call_id="c1", name="check_balance"),
    ]
    chunks = [chunk async for chunk in model.astream(messages)]
    assert [chunk.content for chunk in chunks] == ["Your balance is 50,000 RWF."]
    for answer in (model.invoke(messages), await model.ainvoke(messages), chunks[0]):
        assert answer.content == "Your balance is 50,000 RWF."
        assert answer.tool_calls == []


def test_the_injected_clock_decides_which_day_is_the_day_after_tomorrow():
    # 23:30 UTC on 1 March is already 01:30 on 2 March in Kigali (UTC+2): the calendar
    # day is Kigali's, so the day after tomorrow is 4 March, whatever the wall clock says.
    clock = ManualClock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    model = OfflineChatModel(clock=clock).bind_tools(TOOLS["booking"])
    question = [HumanMessage("bus from Kigali to Huye the day after tomorrow")]
    route = {"origin": "Kigali", "destination": "Huye"}
    assert only_call(model.invoke(question)) == ("search_trips", {**route, "date": "2026-03-04"})
    clock.advance(days=1)
    assert only_call(model.invoke(question)) == ("search_trips", {**route, "date": "2026-03-05"})


def test_the_injected_clock_decides_the_year_of_a_date_without_one():
    question = [HumanMessage("from Huye to Kigali on 25/12")]
    for now, expected in [
        (datetime(2026, 12, 20, 8, 0, tzinfo=UTC), "2026-12-25"),
        (datetime(2026, 12, 26, 8, 0, tzinfo=UTC), "2027-12-25"),
    ]:
        model = OfflineChatModel(clock=ManualClock(now)).bind_tools(TOOLS["booking"])
        name, args = only_call(model.invoke(question))
        assert (name, args["date"]) == ("search_trips", expected)


def test_multimodal_content_blocks_are_read_as_text():
    message = model_for("payment").invoke(
        [HumanMessage(content=[{"type": "text", "text": "what's my balance?"}])]
    )
    assert only_call(message) == ("check_balance", {})


def test_account_lookups_without_an_email_use_the_callers_own_account():
    # No email in the message: the tool answers for the account linked to the caller.
    message = ask("support", "show invoices")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("list_invoices", {})]


def test_a_route_started_before_a_handoff_is_completed_after_it():
    """The handoff into the specialist is no served request: the origin the user gave
    before it still counts when the destination follows."""
    call = AIMessage("", tool_calls=[{"name": "transfer_to_booking", "args": {}, "id": "h1"}])
    moved = ToolMessage(
        "Transferred to booking.",
        tool_call_id="h1",
        name="transfer_to_booking",
        response_metadata={HANDOFF_DESTINATION: "booking"},
    )
    asked = AIMessage("Where would you like to go from Kigali?")
    name, args = only_call(ask("booking", "trips from Kigali", call, moved, asked, "to Huye"))
    assert name == "search_trips"
    assert (args["origin"], args["destination"]) == ("Kigali", "Huye")


@pytest.mark.parametrize("text", ["send -500 to 0788000002", "send minus 500 to 0788000002"])
def test_a_negative_amount_keeps_its_sign_for_the_tool_to_refuse(text):
    name, args = only_call(ask("payment", text))
    assert (name, args["amount"], args["recipient_phone"]) == (
        "transfer_money",
        -500,
        "+250788000002",
    )


def test_several_transfers_propose_the_first_and_say_so():
    message = ask("payment", "send 1000 to 0788000002 and 2000 to 0788000003")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("transfer_money", {"recipient_phone": "+250788000002", "amount": 1000})
    ]
    assert message.content == (
        "I can make one transfer at a time, so here is the first one: 1000 RWF to "
        "+250788000002. Send me the next one after this."
    )
