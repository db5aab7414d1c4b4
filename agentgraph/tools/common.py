"""What every tool shares: identity from the runtime context, idempotency keys, formatting.

Identity (tenant and phone) is read from `ToolRuntime.context` only. Idempotency keys
are derived from the thread, the turn number and the operation itself, so a tool body
that runs again after a crash or an interrupt resume repeats the same key and the
domain applies the money movement once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from langgraph.prebuilt import ToolRuntime

from agentgraph.clock import KIGALI
from agentgraph.context import Context


def identity(runtime: ToolRuntime[Context, Any]) -> tuple[str, str]:
    """(tenant, phone) of the user this run acts for."""
    ctx = runtime.context
    if ctx is None:
        ctx = Context()
    return ctx.tenant_id, ctx.user_id


def thread_id(runtime: ToolRuntime[Context, Any]) -> str:
    """The conversation's thread id; money-moving tools refuse to run without one."""
    configurable = (runtime.config or {}).get("configurable", {})
    value = configurable.get("thread_id")
    if not value:
        raise RuntimeError("this tool needs a thread_id in the run config")
    return str(value)


CREATED_AT = "agentgraph_created_at"


def requested_at(runtime: ToolRuntime[Context, Any]) -> datetime:
    """When the model asked for this tool call (stamped by the agent node).

    The same on every re-run of the tool, so confirmation deadlines do not move when
    a paused tool runs again on resume. Falls back to now for calls made outside the
    assistant graph.
    """
    state = runtime.state
    messages = getattr(state, "messages", None)
    if messages is None and isinstance(state, dict):
        messages = state.get("messages")
    for message in reversed(messages or []):
        calls = getattr(message, "tool_calls", None) or []
        if any(c.get("id") == runtime.tool_call_id for c in calls):
            stamp = message.response_metadata.get(CREATED_AT)
            if isinstance(stamp, str):
                try:
                    return datetime.fromisoformat(stamp)
                except ValueError:
                    break
    return datetime.now(UTC)


def idempotency_key(runtime: ToolRuntime[Context, Any], action: str, *facts: object) -> str:
    """A key naming this operation in this turn of this thread.

    It is built from what the operation does (`facts`: recipient and amount, trip and
    seats, booking id), not from the model's tool-call id, so it stays the same when a
    crashed or resumed turn runs the tool again, even if a model re-planned the call
    under a new id. A new turn gets a new key, so the user can repeat an operation
    deliberately later.
    """
    state = runtime.state
    turns = getattr(state, "turns", None)
    if turns is None and isinstance(state, dict):
        turns = state.get("turns", 0)
    digest = hashlib.sha256(repr(facts).encode()).hexdigest()[:16]
    return f"{action}:{thread_id(runtime)}:{turns or 0}:{digest}"


def money(amount: int) -> str:
    """5000 -> '5,000 RWF'."""
    return f"{amount:,} RWF"


def local_time(moment: datetime) -> str:
    """A departure as the user reads it, in Kigali time: 'Mon 24 Nov 07:00'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(KIGALI).strftime("%a %d %b %H:%M")


_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4,
    "samedi": 5, "dimanche": 6,
}  # fmt: skip


def parse_day(text: str | None, now: datetime | None = None) -> date | None:
    """'today', 'tomorrow', 'demain', a weekday or YYYY-MM-DD / DD/MM -> a Kigali date.

    None or '' means any day. Raises ValueError with a user-ready message otherwise.
    """
    if text is None or not text.strip():
        return None
    today = (now or datetime.now(UTC)).astimezone(KIGALI).date()
    word = text.strip().lower()
    if word in ("today", "aujourd'hui", "aujourdhui", "tonight", "ce soir"):
        return today
    if word in ("tomorrow", "demain"):
        return today + timedelta(days=1)
    if word in _WEEKDAYS:
        ahead = (_WEEKDAYS[word] - today.weekday()) % 7
        return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    parts = word.replace("-", "/").split("/")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
        day, month = int(parts[0]), int(parts[1])
        year = int(parts[2]) if len(parts) == 3 else today.year
        if year < 100:
            year += 2000
        try:
            candidate = date(year, month, day)
        except ValueError:
            raise ValueError(f"I could not read the date '{text}'.") from None
        if len(parts) == 2 and candidate < today:
            candidate = date(year + 1, month, day)
        return candidate
    raise ValueError(
        f"I could not read the date '{text}'. Try 'today', 'tomorrow', a weekday or 2025-12-24."
    )
