"""Fakes for users' own tests: chat models that need no network.

`ScriptedChatModel(responses=[AIMessage(...), ...])` answers each call with the next
scripted message (tool calls included) and ignores `bind_tools`, so a test can drive
the assistant graph through exact tool calls and handoffs. Several agents may share
one instance: the script is consumed in call order across them. Running past the end
of the script raises, so a test never silently loops.

`FunctionChatModel(respond=f)` answers every call with `f(messages)`: a zero-latency
model for load tests and benchmarks (`delay` holds each async call open that long).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field


class ScriptExhausted(AssertionError):
    """The graph asked the scripted model for more answers than the test provided."""


class ScriptedChatModel(FakeMessagesListChatModel):
    """Replays `responses` one per call; records the prompts it was given in `calls`."""

    calls: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model itself: the tools are ignored, since the script holds the tool calls."""
        return cast("Runnable[LanguageModelInput, AIMessage]", self)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.i >= len(self.responses):
            raise ScriptExhausted(
                f"script has {len(self.responses)} answers; call {self.i + 1} asked"
            )
        self.calls.append(list(messages))
        response = self.responses[self.i]
        self.i += 1
        message = response.model_copy() if isinstance(response, AIMessage) else response
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)

    @property
    def remaining(self) -> int:
        """How many scripted responses have not been used yet."""
        return len(self.responses) - self.i


def tool_call(
    name: str, args: dict[str, Any] | None = None, call_id: str | None = None
) -> AIMessage:
    """An AIMessage asking for one tool call (handy in scripts)."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": args or {}, "id": call_id or f"call_{name}", "type": "tool_call"}
        ],
    )


class FunctionChatModel(BaseChatModel):
    """Answers each call with `respond(messages)`; tools bound to it are ignored."""

    respond: Callable[[list[BaseMessage]], AIMessage]
    delay: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "function"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model itself: the tools are ignored; any tool call is `respond`'s to make."""
        return cast("Runnable[LanguageModelInput, AIMessage]", self)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._generate(messages)
