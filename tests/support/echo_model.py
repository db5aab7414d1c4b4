"""A zero-latency chat model for channel tests: it answers `echo: <last user text>`.

It never calls tools, so every turn is one model call; `delay` makes each call take
that long (to hold a turn open while more messages arrive).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool


class EchoChatModel(BaseChatModel):
    delay: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "echo"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | BaseTool | Any], **kwargs: Any
    ) -> Runnable[Any, BaseMessage]:
        return self

    def _answer(self, messages: list[BaseMessage]) -> ChatResult:
        last = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        text = last.text if last is not None else ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=f"echo: {text}"))])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._answer(messages)
