"""In-process chat-model fakes for the model factory and fallback tests: two tools, a
scripted fallback, models that fail (optionally mid-stream) or count their calls."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from agentgraph.config import Settings


@tool
def check_balance() -> str:
    """Show the wallet balance."""
    return "0 RWF"


@tool
def search_trips(origin: str, destination: str) -> str:
    """Search bus trips."""
    return "none"


class ScriptedFallback(FakeMessagesListChatModel):
    """Stands in for the offline model: replays messages, remembers bound tool names."""

    bound_tools: list[str] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs):
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.model_copy(update={"bound_tools": names})


class FailingModel(BaseChatModel):
    """A primary whose every call raises `error` (after counting the call)."""

    error: Exception
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls += 1
        raise self.error

    def bind_tools(self, tools, **kwargs):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools])


class FailingStreamingModel(FailingModel):
    """A streaming primary that yields `chunks_before_error` chunks, then raises."""

    chunks_before_error: int = 0

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        for i in range(self.chunks_before_error):
            yield ChatGenerationChunk(message=AIMessageChunk(content=f"part{i} "))
        raise self.error


class CountingModel(BaseChatModel):
    """A primary that answers with a fixed priced message and counts calls."""

    calls: int = 0
    model_name: str = "gpt-4o-mini"

    @property
    def _llm_type(self) -> str:
        return "counting"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls += 1
        message = AIMessage(
            "from the LLM",
            response_metadata={"model_name": "gpt-4o-mini-2024-07-18"},
            usage_metadata={"input_tokens": 1000, "output_tokens": 1000, "total_tokens": 2000},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def timeout_error() -> openai.APITimeoutError:
    return openai.APITimeoutError(request=httpx2.Request("POST", "http://llm.invalid/v1"))


def fallback_reply(text: str = "offline answer") -> ScriptedFallback:
    return ScriptedFallback(responses=[AIMessage(text, response_metadata={"model_name": "rules"})])


def settings(**env: Any) -> Settings:
    return Settings(**env)
