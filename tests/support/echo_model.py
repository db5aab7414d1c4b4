"""A zero-latency chat model for channel tests: it answers `echo: <last user text>`.

It never calls tools, so every turn is one model call; `delay` makes each call take
that long (to hold a turn open while more messages arrive).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agentgraph.testing import FunctionChatModel


def echo(messages: list[BaseMessage]) -> AIMessage:
    last = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    return AIMessage(content=f"echo: {last.text if last is not None else ''}")


class EchoChatModel(FunctionChatModel):
    respond: Callable[[list[BaseMessage]], AIMessage] = echo


class GatedEchoModel(EchoChatModel):
    """An echo model whose calls wait at a gate, to prove what happens meanwhile.

    Every call counts itself in `in_flight` (and the peak in `peak`) and waits until
    `open()` is called, or until `opens_at` calls are waiting at once (a barrier that
    can only be passed by turns running concurrently). No wall-clock timing is used:
    a test that needs a property of the server checks it while the gate is shut."""

    opens_at: int | None = None

    def model_post_init(self, context: object) -> None:
        self._gate = asyncio.Event()
        self._in_flight = 0
        self._peak = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def peak(self) -> int:
        return self._peak

    def open(self) -> None:
        self._gate.set()

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        if self.opens_at is not None and self._in_flight >= self.opens_at:
            self._gate.set()
        try:
            await self._gate.wait()
        finally:
            self._in_flight -= 1
        return self._generate(messages)


async def wait_for(predicate: Callable[[], bool], within: float = 20.0) -> None:
    """Poll `predicate` until it holds; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
