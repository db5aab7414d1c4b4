"""Idempotency keys for money movements, and the fixed time a tool call was asked for.

A key is derived from the thread, the inbound message that asked for the operation
(the turn's last human message: its id is the inbound message's id) and the
operation itself, so a tool body that runs again after a crash, a redelivery or an
interrupt resume repeats the same key and the domain applies the money movement
once. Nothing generated during the run (a turn counter, a tool-call id) goes into
it. `requested_at` is the time the agent node stamped on the model's answer, the
same on every re-run of the tool, so confirmation deadlines do not move when a
paused tool runs again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from langgraph.prebuilt import ToolRuntime

from agentgraph.context import Context
from agentgraph.tools.services import services_of, thread_id

__all__ = ["CREATED_AT", "TURN_KEY", "idempotency_key", "requested_at"]

CREATED_AT = "agentgraph_created_at"
"""`response_metadata` key of an agent's answer: when the model answered (ISO time)."""

TURN_KEY = "agentgraph_turn"
"""`response_metadata` key of an agent's answer: the key of the turn it belongs to."""


def _messages(runtime: ToolRuntime[Context, Any]) -> list[Any]:
    state = runtime.state
    messages = getattr(state, "messages", None)
    if messages is None and isinstance(state, dict):
        messages = state.get("messages")
    return list(messages or [])


def requested_at(runtime: ToolRuntime[Context, Any]) -> datetime:
    """When the model asked for this tool call (stamped by the agent node).

    Falls back to the services' clock for calls made outside the assistant graph."""
    for message in reversed(_messages(runtime)):
        calls = getattr(message, "tool_calls", None) or []
        if any(c.get("id") == runtime.tool_call_id for c in calls):
            stamp = message.response_metadata.get(CREATED_AT)
            if isinstance(stamp, str):
                try:
                    return datetime.fromisoformat(stamp)
                except ValueError:
                    break
    return services_of(runtime).clock.now()


def idempotency_key(runtime: ToolRuntime[Context, Any], action: str, *facts: object) -> str:
    """A key naming this operation, asked for by this message, in this thread.

    It is built from the id of the human message that asked (the inbound message,
    or the message whose confirmation a "yes" answers) and from what the operation
    does (`facts`: recipient and amount, trip and seats, booking id), not from the
    model's tool-call id or a turn counter, so it stays the same when a crashed,
    redelivered or resumed turn runs the tool again, even if a model re-planned the
    call under a new id. A new message gets a new key, so the user can repeat an
    operation deliberately later.
    """
    asked_by = next(
        (m.id for m in reversed(_messages(runtime)) if getattr(m, "type", "") == "human"), None
    )
    if not asked_by:
        raise RuntimeError("a money movement needs the human message that asked for it")
    digest = hashlib.sha256(repr(facts).encode()).hexdigest()[:16]
    return f"{action}:{thread_id(runtime)}:{asked_by}:{digest}"
