"""What one assistant turn produced: `TurnResult`, and how it is read off the graph's state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Interrupt


@dataclass
class TurnResult:
    """What one turn produced, in the shape the CLI's --jsonl prints."""

    input: str
    replies: list[str]
    agent: str
    awaiting_confirmation: bool
    confirmation: dict[str, Any] | None = None
    escalated: bool = False
    usage: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 0.0
    error: bool = False
    turns: int = 0
    inputs: list[str] = field(default_factory=list)
    """Ids of the inbound messages this turn answered (those `send` was given, or of
    a turn found already complete: then a prefix of them)."""
    replayed: bool = False
    """True when the turn had already run to its end (before a crash) and its
    recorded replies were returned instead of running it again."""

    def as_json(self) -> dict[str, Any]:
        """The fields `--jsonl` prints: input, replies, agent and `awaiting_confirmation`."""
        return {
            "input": self.input,
            "replies": self.replies,
            "agent": self.agent,
            "awaiting_confirmation": self.awaiting_confirmation,
        }


def values_result(
    text: str,
    replies: list[str],
    values: dict[str, Any],
    interrupts: Sequence[Interrupt],
    *,
    error: bool,
) -> TurnResult:
    """The result of a turn from the graph's state values and pending interrupts."""
    confirmation = next(
        (
            i.value
            for i in interrupts
            if isinstance(i.value, dict) and i.value.get("type") == "confirmation"
        ),
        None,
    )
    return TurnResult(
        input=text,
        replies=replies,
        agent=str(values.get("active_agent", "triage")),
        awaiting_confirmation=confirmation is not None,
        confirmation=confirmation,
        escalated=bool(values.get("escalated", False)),
        usage=dict(values.get("turn_usage", {})),
        error=error,
        turns=int(values.get("turns", 0)),
    )
