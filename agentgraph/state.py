"""Typed graph state for the assistant.

`AssistantInput` is what a caller sends: new messages, and (from the runtime) the
key of the turn and the ids of the inbound messages it answers, so a turn that ran
to its end is known as done after a crash. `AssistantState` adds what
the graph keeps between turns: which agent owns the conversation, the running
summary of trimmed history, whether a human has taken over, and per-turn counters
that the entry node resets at the start of every turn. The engagement conductor's
state lives with its graph, in `agentgraph.engagement.conductor.state`.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

AgentName = Literal["triage", "booking", "payment", "support"]
AGENT_NAMES: tuple[AgentName, ...] = ("triage", "booking", "payment", "support")


def merge_usage(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer for per-turn usage: sums numbers, a `{"reset": True}` update clears."""
    if right is None:
        return dict(left or {})
    if right.get("reset"):
        return {k: v for k, v in right.items() if k != "reset"}
    out = dict(left or {})
    for key, value in right.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = out.get(key, 0) + value
        else:
            out[key] = value
    return out


def latest(left: Any, right: Any) -> Any:
    """Reducer keeping the newest value: a resume re-run after a crash may write the
    turn's key again in a step whose earlier write was kept."""
    return right


@dataclass(kw_only=True)
class AssistantInput:
    """What a caller sends into the assistant graph."""

    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)
    turn_key: Annotated[str, latest] = ""
    """The turn this input starts or resumes (the first inbound message's id); the
    agent node stamps it on its answers. Empty for callers that track no turns."""
    turn_inputs: Annotated[list[str], latest] = field(default_factory=list)
    """Ids of the inbound messages this turn answers."""


@dataclass(kw_only=True)
class AssistantState(AssistantInput):
    """Everything the assistant remembers about one conversation (thread)."""

    active_agent: AgentName = "triage"
    summary: str = ""
    escalated: bool = False
    escalation_reason: str | None = None
    handoffs_this_turn: int = 0
    turn_usage: Annotated[dict[str, Any], merge_usage] = field(default_factory=dict)
    turns: Annotated[int, operator.add] = 0
