"""Bounded conversation memory: a window of recent messages plus a running summary.

At the start of every turn `start_turn` folds messages older than the window into
`state.summary` and removes them from the checkpointed state, so a conversation of
any length costs the same tokens and storage per turn. The cut always lands on a
user message, never between a tool call and its result (providers reject orphaned
tool messages). The summary is extractive and deterministic: it needs no model call
and works offline; it keeps the most recent lines within `SUMMARY_MAX_CHARS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.types import Command

from agentgraph.handoff import handoff_destination
from agentgraph.state import AgentName, AssistantState

SUMMARY_MAX_CHARS = 1500
_CLIP = 160


def window_start(messages: Sequence[AnyMessage], window: int) -> int:
    """Index of the first message to keep verbatim."""
    if len(messages) <= window:
        return 0
    cut = len(messages) - window
    while cut < len(messages) and not isinstance(messages[cut], HumanMessage):
        cut += 1
    if cut == len(messages):
        humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
        cut = humans[-1] if humans else 0
    return cut


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 3] + "..."


def _line(message: AnyMessage) -> str | None:
    text = message.text if hasattr(message, "text") else str(message.content)
    if not text:
        return None
    if isinstance(message, HumanMessage):
        return f"User: {_clip(text)}"
    if isinstance(message, AIMessage) and not message.tool_calls:
        return f"Assistant: {_clip(text)}"
    if isinstance(message, ToolMessage) and handoff_destination(message) is None:
        return f"Result: {_clip(text)}"
    return None


def fold_summary(summary: str, old: Sequence[AnyMessage]) -> str:
    """`summary` extended with one line per meaningful old message, newest kept."""
    lines = [ln for ln in summary.splitlines() if ln.strip()]
    lines += [ln for m in old if (ln := _line(m))]
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        size += len(line) + 1
        if size > SUMMARY_MAX_CHARS:
            break
        kept.append(line)
    return "\n".join(reversed(kept))


def make_start_turn(history_window: int) -> Any:
    """The entry node: reset per-turn counters, compact history, pick the agent."""

    async def start_turn(
        state: AssistantState,
    ) -> Command[Literal["triage", "booking", "payment", "support", "__end__"]]:
        update: dict[str, Any] = {
            "turns": 1,
            "handoffs_this_turn": 0,
            "turn_usage": {"reset": True},
        }
        cut = window_start(state.messages, history_window)
        if cut:
            old = state.messages[:cut]
            update["summary"] = fold_summary(state.summary, old)
            update["messages"] = [RemoveMessage(id=m.id) for m in old if m.id]
        # A human has the conversation: keep the message for them, say nothing.
        goto: AgentName | Literal["__end__"] = "__end__" if state.escalated else state.active_agent
        return Command(goto=goto, update=update)

    return start_turn
