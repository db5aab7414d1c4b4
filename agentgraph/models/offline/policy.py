"""The offline model's decision: from a conversation and the bound tools to one step.

Kept apart from reading messages and from the chat-model plumbing, so that what the
assistant does next (call, ask, relay, hand off) is one readable set of rules.
`decide(messages, role=..., bound=..., tables=..., today=...)` returns either
`Call(name, args)` (one tool call, always of a bound tool, args limited to the
tool's schema) or `Say(text)` (never empty). Tool results since the last user
message are relayed as written; otherwise the last user message is read, with
earlier ones lending the intent and slots of an unfinished request; the intent is
served when its tool is bound, else handed to an agent that owns it, unless two
handoffs already happened since the user spoke. `offered` (the capabilities of the
bound handoffs' agents, None when unknown) shapes the menu and the fallback, and a
request whose agents are not bound at all is answered with what cannot be done here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage

from agentgraph.handoff import handoff_destination
from agentgraph.models.offline.reading import Reading, read_message
from agentgraph.models.offline.slots import Slots, merge_slots
from agentgraph.models.offline.tables import Tables
from agentgraph.models.offline.text import normalize

# Older user messages that may lend an intent or slots to the current one.
SCAN_LIMIT = 6
# Handoff results since the user spoke after which the model stops handing off.
MAX_HANDOFFS = 2
_SMALL_TALK = frozenset({"greeting", "thanks", "goodbye", "affirm", "deny"})
_BARE_NUMBER = re.compile(r"^\W*(?:#|n°|no\.?|number|numero|trip|trajet|option)?\s*(\d{1,7})\W*$")
# ToolNode's own error text and tracebacks are not for users; tool-written errors are.
_FRAMEWORK_ERROR = re.compile(r"Please fix your mistakes|Traceback \(most recent call last\)")


@dataclass(frozen=True)
class Call:
    """Emit one tool call, with `say` as the text that goes with it (or none)."""

    name: str
    args: dict[str, Any]
    say: str = ""


@dataclass(frozen=True)
class Say:
    """Reply with text."""

    text: str


Plan = Call | Say


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "\n".join(parts)


@dataclass(frozen=True)
class _Need:
    """What serving an intent takes: the tool, the args known, the slots still missing."""

    intent: str
    tool: str
    args: dict[str, Any]
    missing: list[str]


class _Conversation:
    """The message list with the lookups the policy needs, readings cached."""

    def __init__(
        self,
        messages: Sequence[BaseMessage],
        tables: Tables,
        today: date,
        handoffs: Mapping[str, str],
    ) -> None:
        self.messages = list(messages)
        self.tables = tables
        self.today = today
        self.handoffs = handoffs
        self.call_names: dict[str, str] = {
            str(call["id"]): str(call["name"])
            for m in self.messages
            if m.type == "ai"
            for call in getattr(m, "tool_calls", [])
            if call.get("id")
        }
        self.humans = [i for i, m in enumerate(self.messages) if m.type == "human"]
        self._readings: dict[int, Reading] = {}

    def reading(self, index: int) -> Reading:
        if index not in self._readings:
            text = message_text(self.messages[index])
            self._readings[index] = read_message(text, self.tables, self.today)
        return self._readings[index]

    def tool_name(self, message: BaseMessage) -> str:
        name = getattr(message, "name", None)
        if name:
            return str(name)
        return self.call_names.get(str(getattr(message, "tool_call_id", "")), "")

    def is_handoff_result(self, message: BaseMessage) -> bool:
        """True for the result of a handoff (it moved the turn, it answers nothing)."""
        return handoff_destination(message) is not None or self.tool_name(message) in self.handoffs

    def completed_after(self, index: int) -> set[str]:
        """Tools (not handoffs) that returned without error after message `index`."""
        return {
            self.tool_name(m)
            for m in self.messages[index + 1 :]
            if isinstance(m, ToolMessage) and m.status != "error" and not self.is_handoff_result(m)
        }

    def last_ai_text(self, before: int) -> str:
        for m in reversed(self.messages[:before]):
            if m.type == "human":
                return ""
            if m.type == "ai" and not getattr(m, "tool_calls", None) and message_text(m).strip():
                return message_text(m).strip()
        return ""

    def trips_listed_before(self, index: int) -> bool:
        """True when the exchange just before message `index` showed a list of trips."""
        previous = max((i for i in self.humans if i < index), default=-1)
        between = self.messages[previous + 1 : index]
        tools = [self.tool_name(m) for m in between if isinstance(m, ToolMessage)]
        if tools:
            return "search_trips" in tools
        # No tool results kept (a transcript without them): judge the reply itself,
        # which must name two trips or more to be a list.
        listing = normalize(self.last_ai_text(index))
        return any(len(p.findall(listing)) >= 2 for p in self.tables.trip_listing)

    def pending_ask(self, index: int) -> str | None:
        """The intent whose question (a value-free ask text) the user is answering."""
        asked = self.last_ai_text(index)
        if not asked:
            return None
        for name in self.tables.intents:
            if asked in self.tables.plain_asks(name):
                return name
        return None


def _owner(tables: Tables, intent: str) -> str:
    return tables.intents[intent].agents[0]


def _blocked(conv: _Conversation, index: int, intent: str) -> bool:
    """True when a finished tool call after message `index` closes what it asked."""
    tool = conv.tables.intents[intent].tool or ""
    allowed = conv.tables.carry_past.get(tool, frozenset()) | conv.tables.aside_tools
    return bool(conv.completed_after(index) - allowed)


def _resume(conv: _Conversation, earlier: list[int]) -> str | None:
    """The unfinished request of the most recent earlier message that had one."""
    for index in earlier:
        intent = conv.reading(index).intent
        if intent is None:
            continue
        spec = conv.tables.intents[intent]
        if spec.tool is None or spec.aside:
            continue
        return None if _blocked(conv, index, intent) else intent
    return None


def _implied(tables: Tables, slots: Slots) -> str | None:
    present = slots.present()
    return next((i for slot, i in tables.implied_by_slots.items() if slot in present), None)


def _window(conv: _Conversation, intent: str, earlier: list[int], current: int) -> list[Reading]:
    """Readings, oldest first, that lend slots to `intent` (the current one last)."""
    chosen: list[Reading] = []
    for index in earlier:
        reading = conv.reading(index)
        if reading.intent not in (None, intent) and conv.tables.intents[reading.intent].aside:
            continue
        if _blocked(conv, index, intent):
            break
        if reading.intent and _owner(conv.tables, reading.intent) != _owner(conv.tables, intent):
            break
        if reading.intent not in (None, intent):
            # A bare number belonged to that other request, not to this one.
            reading = replace(reading, slots=replace(reading.slots, numbers=[], hash_id=None))
        chosen.append(reading)
    return [*reversed(chosen), conv.reading(current)]


def _understand(conv: _Conversation) -> tuple[str | None, Slots, list[Reading], str]:
    current = conv.humans[-1]
    cur = conv.reading(current)
    earlier = list(reversed(conv.humans[:-1]))[:SCAN_LIMIT]
    langs = [cur.lang] + [conv.reading(i).lang for i in earlier]
    lang = next((lang for lang in langs if lang), "en")
    intent = cur.intent
    if intent in _SMALL_TALK and cur.slots.actionable():
        intent = _resume(conv, earlier) or intent
    if intent is None:
        number = _BARE_NUMBER.match(cur.norm)
        if number and conv.trips_listed_before(current):
            slots = replace(cur.slots, trip_id=int(number.group(1)), numbers=[])
            return "book", slots, [cur], lang
        intent = conv.pending_ask(current)
        if intent is None and cur.slots.actionable():
            intent = _resume(conv, earlier) or _implied(conv.tables, cur.slots)
    if intent is None:
        return None, cur.slots, [cur], lang
    window = _window(conv, intent, earlier, current)
    return intent, merge_slots([r.slots for r in window]), window, lang


def _subject(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s+", text.strip())[0].strip()
    if len(first) > 60:
        first = first[:60].rsplit(" ", 1)[0] + "..."
    return first[:1].upper() + first[1:]


def _need(intent: str, slots: Slots, window: list[Reading]) -> _Need:
    """The tool and arguments for `intent`; some intents turn into a neighbour."""

    def need(tool: str, args: dict[str, Any], required: tuple[str, ...] = ()) -> _Need:
        missing = [k for k in required if args.get(k) in (None, "")]
        return _Need(intent, tool, {k: v for k, v in args.items() if v is not None}, missing)

    trip = slots.first_id("trip_id", "hash_id", "numbers", "ticket_id")
    has_city = bool(slots.origin or slots.destination)
    if intent == "search_trips" and slots.trip_id and not has_city:
        return _need("availability", slots, window)
    if trip is None and (intent == "book" or (intent == "availability" and has_city)):
        return _need("search_trips", slots, window)
    free = [r for r in window if r.content_words > 0 and r.intent in (None, intent)]
    if intent == "balance":
        return need("check_balance", {})
    if intent == "history":
        limit = max(1, min(slots.numbers[0], 50)) if slots.numbers else None
        return need("transaction_history", {"limit": limit})
    if intent == "transfer":
        amount = slots.amount or slots.word_amount or (slots.numbers[0] if slots.numbers else None)
        args = {"recipient_phone": slots.phone, "amount": amount, "note": slots.note}
        return need("transfer_money", args, ("recipient_phone", "amount"))
    if intent == "search_trips":
        args = {"origin": slots.origin, "destination": slots.destination, "date": slots.date}
        return need("search_trips", args, ("origin", "destination"))
    if intent == "availability":
        return need("check_availability", {"trip_id": trip}, ("trip_id",))
    if intent == "book":
        return need("create_booking", {"trip_id": trip, "seats": slots.seats}, ("trip_id",))
    if intent == "cancel_booking":
        booking = slots.first_id("booking_id", "hash_id", "numbers")
        return need("cancel_booking", {"booking_id": booking}, ("booking_id",))
    if intent == "list_bookings":
        return need("list_bookings", {})
    if intent == "help_article":
        query = free[-1].text if free else None
        return need("search_help_articles", {"query": query}, ("query",))
    if intent == "create_ticket":
        description = " ".join(r.text for r in free) or None
        subject = _subject(free[-1].text) if free else None
        args = {"subject": subject, "description": description}
        return need("create_ticket", args, ("subject", "description"))
    if intent == "ticket_status":
        ticket = slots.first_id("ticket_id", "hash_id", "numbers")
        return need("ticket_status", {"ticket_id": ticket}, ("ticket_id",))
    if intent in ("customer_info", "subscription", "invoices"):
        tool = {
            "customer_info": "get_customer_info",
            "subscription": "get_subscription_details",
            "invoices": "list_invoices",
        }[intent]
        # No email is fine: the tool then uses the account linked to the caller.
        return need(tool, {"customer_email": slots.email})
    if intent == "profile":
        return need("get_user_profile", {})
    if intent == "update_preferences":
        result = need("update_preferences", {"language": slots.language, "name": slots.name})
        return result if result.args else replace(result, missing=["preferences"])
    reason = window[-1].text[:200] or intent
    return need("escalate_to_human", {"reason": reason})


def _fit_schema(args: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties")
    if not properties:
        return args
    return {k: v for k, v in args.items() if k in properties}


def _relay(conv: _Conversation, tail: list[BaseMessage], lang: str) -> Say | None:
    start = 0
    for offset, m in enumerate(tail):
        if m.type == "ai" and not getattr(m, "tool_calls", None) and message_text(m).strip():
            start = offset + 1
    texts = []
    for m in tail[start:]:
        if not isinstance(m, ToolMessage) or conv.is_handoff_result(m):
            continue
        text = message_text(m).strip()
        if not text or (m.status == "error" and _FRAMEWORK_ERROR.search(text)):
            text = conv.tables.reply("tool_failed", lang)
        texts.append(text)
    return Say("\n\n".join(texts)) if texts else None


def _several_transfers(reading: Reading) -> bool:
    """True when the message asks to send to several people or several amounts."""
    slots = reading.slots
    return bool(slots.other_phones or slots.other_amounts or len(slots.numbers) > 1)


def decide(
    messages: Sequence[BaseMessage],
    *,
    role: str,
    bound: Mapping[str, Mapping[str, Any]],
    handoffs: Mapping[str, str],
    tables: Tables,
    today: date,
    offered: Sequence[str] | None = None,
) -> Plan:
    """The next step for the agent `role` with tools `bound` (name -> JSON schema), of
    which `handoffs` (name -> destination agent) move the conversation."""
    conv = _Conversation(messages, tables, today, handoffs)
    handoff_to = {agent: name for name, agent in handoffs.items() if name in bound}
    if not conv.humans:
        return Say(tables.menu("en", offered))
    tail = conv.messages[conv.humans[-1] + 1 :]
    intent, slots, window, lang = _understand(conv)
    relayed = _relay(conv, tail, lang)
    if relayed:
        return relayed
    moved = [m for m in tail if isinstance(m, ToolMessage) and conv.is_handoff_result(m)]
    # A refused handoff means the graph wants an answer now, whatever the count.
    may_hand_off = len(moved) < MAX_HANDOFFS and all(m.status != "error" for m in moved)

    if intent is None:
        return Say(tables.fallback(lang, offered))
    spec = tables.intents[intent]
    if spec.tool is None:
        if intent in ("greeting", "help"):
            target = handoff_to.get("triage")
            if role != "triage" and may_hand_off and target is not None:
                return Call(target, {"reason": intent})
            return Say(tables.menu(lang, offered))
        key = {"thanks": "thanks", "goodbye": "goodbye"}.get(intent, "nothing_pending")
        return Say(tables.reply(key, lang))

    need = _need(intent, slots, window)
    if need.tool in bound:
        if need.missing:
            return Say(tables.ask(need.intent, need.missing, lang, need.args))
        call = Call(need.tool, _fit_schema(need.args, bound[need.tool]))
        if need.tool == "transfer_money" and _several_transfers(conv.reading(conv.humans[-1])):
            # One confirmation moves one transfer: say which one is proposed first.
            return replace(call, say=tables.ask("one_transfer", ["*"], lang, need.args))
        return call
    if may_hand_off:
        for agent in spec.agents:
            target = handoff_to.get(agent)
            if agent != role and target is not None:
                return Call(target, {"reason": intent})
        if offered is not None and not any(a in handoff_to or a == role for a in spec.agents):
            return Say(tables.not_offered(spec.agents[0], lang))
    return Say(tables.reply("unavailable", lang))
