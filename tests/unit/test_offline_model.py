"""The offline chat model plays each agent from its bound tools and the conversation:
the exact tool call for each request, triage's routes, handoffs on other topics and
the replies to small talk. Tools are stubs (`tests/support/offline_tools.py`).
"""

import pytest

from tests.support.offline_tools import (
    ask,
    christmas,
    only_call,
    reply,
)

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
