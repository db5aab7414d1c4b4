"""A zero-latency chat model for channel tests: it answers `echo: <last user text>`.

It never calls tools, so every turn is one model call; `delay` makes each call take
that long (to hold a turn open while more messages arrive).
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agentgraph.testing import FunctionChatModel


def echo(messages: list[BaseMessage]) -> AIMessage:
    last = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    return AIMessage(content=f"echo: {last.text if last is not None else ''}")


class EchoChatModel(FunctionChatModel):
    respond: Callable[[list[BaseMessage]], AIMessage] = echo
