"""Shared pieces of the LLM-path tests: two tools, a fixed fallback model, and a
`ResilientChatModel` built against a `FakeOpenAIServer`."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from agentgraph.config import Settings
from agentgraph.models import ResilientChatModel, SpendBudget, build_chat_model
from tests.support.openai_server import FakeOpenAIServer


@tool
def search_trips(origin: str, destination: str) -> str:
    """Search bus trips between two places."""
    return f"Trip 7: {origin} -> {destination} at 09:00, 3000 RWF"


@tool
def check_balance() -> str:
    """Show the wallet balance."""
    return "12000 RWF"


class OfflineStandIn(FakeMessagesListChatModel):
    """The fallback in these tests: a fixed answer, remembers the tools it was bound to."""

    bound_tools: list[str] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs):
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.model_copy(update={"bound_tools": names})


def offline(text: str = "Offline: I can still help with bookings.") -> OfflineStandIn:
    return OfflineStandIn(responses=[AIMessage(text, response_metadata={"model_name": "rules"})])


def llm_settings(server: FakeOpenAIServer, **env: Any) -> Settings:
    values: dict[str, Any] = {
        "OPENAI_API_KEY": "sk-test-key",
        "OPENAI_BASE_URL": server.base_url,
        "AGENTGRAPH_LLM_TIMEOUT_SECONDS": 5,
        "AGENTGRAPH_LLM_MAX_RETRIES": 1,
        **env,
    }
    return Settings(**values)


def build(
    server: FakeOpenAIServer,
    *,
    budget: SpendBudget | None = None,
    fallback: OfflineStandIn | None = None,
    **env: Any,
) -> ResilientChatModel:
    model = build_chat_model(
        llm_settings(server, **env),
        budget=budget if budget is not None else SpendBudget(daily_usd=10.0),
        fallback=fallback if fallback is not None else offline(),
    )
    assert isinstance(model, ResilientChatModel)
    return model


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged
