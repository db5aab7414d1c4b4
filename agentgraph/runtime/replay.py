"""Finding a turn that already ran to its end, and what it answered, in the checkpoint.

A crash after a turn's final checkpoint but before its replies were committed to the
outbox leaves the inbound messages queued, and they would run again as a new turn
(a second booking, or "nothing waiting for your confirmation" after a transfer that
went through). The turn's input therefore carries its key (the first inbound
message's id) and the ids it answers, which the checkpoint keeps; the agent node
stamps the key on every answer. `completed_turn(snapshot, key)` recognises the turn
in the thread's state and rebuilds its replies: the stamped answers in order, then
the prompt of the confirmation the turn ended on. The runner then returns those
instead of running the messages again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.types import Interrupt, StateSnapshot

from agentgraph.tools.idempotency import TURN_KEY

__all__ = ["CompletedTurn", "completed_turn", "started_turn_key"]


@dataclass(frozen=True)
class CompletedTurn:
    """A turn found in the thread's state: its replies, inputs and final values."""

    replies: list[str]
    inputs: list[str]
    values: dict[str, Any]
    interrupts: Sequence[Interrupt]


def started_turn_key(channel_values: dict[str, Any] | None) -> str:
    """The key of the last turn a checkpoint's values record (empty when none)."""
    return str((channel_values or {}).get("turn_key") or "")


def completed_turn(snapshot: StateSnapshot, key: str) -> CompletedTurn | None:
    """The turn `key` if `snapshot` holds it as the last turn, run to its end.

    A state taken in the middle of the turn (durability `async`/`sync`: steps still
    to run, no pause) is not an end: the turn is then run again, which its money
    movements allow (they are idempotent by message)."""
    values = snapshot.values if isinstance(snapshot.values, dict) else {}
    if not key or values.get("turn_key") != key:
        return None
    interrupts = list(snapshot.interrupts)
    if snapshot.next and not interrupts:
        return None
    replies = [
        str(message.text)
        for message in values.get("messages", [])
        if isinstance(message, AIMessage)
        and message.text
        and message.response_metadata.get(TURN_KEY) == key
    ]
    for item in interrupts:
        value = item.value
        if isinstance(value, dict) and isinstance(value.get("prompt"), str):
            replies.append(value["prompt"])
    return CompletedTurn(
        replies=replies,
        inputs=list(values.get("turn_inputs") or [key]),
        values=values,
        interrupts=interrupts,
    )
