"""What the WhatsApp conversation says: fixed notices and the shaping of turn results.

`turn_messages(result)` turns a `TurnResult` into Cloud API message bodies: reply
texts split at 4096 characters, a pending confirmation as reply buttons, and
choices (trips, bookings) as a list message. The notices are the only texts the
channel itself writes; everything else comes from the assistant.
"""

from __future__ import annotations

from typing import Any

from agentgraph.runtime.turns import TurnResult
from agentgraph.whatsapp.formatting import (
    buttons_message,
    list_message,
    split_text,
    text_message,
)

STOP_WORDS = frozenset({"stop", "unsubscribe", "stop all", "arret", "arrêt"})
START_WORDS = frozenset({"start", "subscribe", "unstop"})

STOPPED = (
    "You are unsubscribed and will not get any more messages from us. "
    "Send START at any time to talk to us again."
)
STARTED = "Welcome back! You are subscribed again. How can I help you today?"
RATE_LIMITED_MINUTE = (
    "You are sending messages faster than I can answer. Please wait a minute and try again."
)
RATE_LIMITED_DAY = "You have reached today's message limit. Please come back tomorrow."
TOO_LONG = (
    "Sorry, your message is too long for me (more than {limit:,} characters). "
    "Please send a shorter message."
)
MEDIA_ACK = (
    "Thanks, I received your {what}. I can only read text for now, so please type your question."
)
CONTACTS_ACK = (
    "Thanks for sharing the contact. I can only read text for now, so please type your question."
)
UNSUPPORTED = "Sorry, I can't read this kind of message. Please send your question as text."
MENU = (
    "Our assistant is taking a break. Here is what you can do:\n"
    "1. Check your balance in the app\n"
    "2. Book bus trips at any agency\n"
    "3. Call our help line for anything else\n"
    "We will be back soon."
)

MEDIA_NAMES = {
    "image": "photo",
    "audio": "audio message",
    "voice": "voice message",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
}


def command_word(text: str | None) -> str | None:
    """'stop' or 'start' when the text is an opt-out/opt-in command, else None."""
    if not text:
        return None
    folded = " ".join(text.strip().lower().split()).strip(".!")
    if folded in STOP_WORDS:
        return "stop"
    if folded in START_WORDS:
        return "start"
    return None


def texts(*bodies: str) -> list[dict[str, Any]]:
    """Plain text messages, each split at the 4096-character limit."""
    return [text_message(piece) for body in bodies for piece in split_text(body)]


def media_ack(media_type: str | None) -> str:
    """The notice answering a media message, naming its kind (`photo`, `voice message`,
    ...; `file` for a kind without a name)."""
    return MEDIA_ACK.format(what=MEDIA_NAMES.get(media_type or "", "file"))


def turn_messages(
    result: TurnResult, choices: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Message bodies for one turn's output, in the order they should arrive.

    `choices` is a tool's choices artifact (`{"button", "rows"}`); when given, the
    turn's last reply becomes a list message whose body is that reply's first line."""
    replies = list(result.replies)
    confirmation = result.confirmation if result.awaiting_confirmation else None
    prompt = confirmation.get("prompt") if confirmation else None
    if prompt and replies and replies[-1] == prompt:
        replies.pop()
    messages: list[dict[str, Any]] = []
    if choices and choices.get("rows") and replies and not confirmation:
        # The list replaces the text that enumerated the same rows.
        body = replies.pop()
        messages += texts(*replies)
        messages.append(
            list_message(
                body.split("\n", 1)[0],
                list(choices["rows"]),
                button=str(choices.get("button") or "Choose"),
            )
        )
        return messages
    messages += texts(*replies)
    if confirmation and prompt:
        options = confirmation.get("options") or [
            {"id": "yes", "title": "Yes"},
            {"id": "no", "title": "No"},
        ]
        if len(prompt) > 1024:
            messages += texts(prompt)
            prompt = "Please confirm."
        messages.append(buttons_message(prompt, options))
    return messages
