"""The one place that builds chat models: callers say what they need, settings say how.

`build_chat_model(settings)` returns the offline rule-based `OfflineChatModel` when no
LLM is configured (no `OPENAI_API_KEY` and no `OPENAI_BASE_URL`, or
`AGENTGRAPH_OFFLINE=1`). Otherwise it returns a `ResilientChatModel` over the
`ChatOpenAI` client of `build_openai_model(settings)`: each attempt bounded by
`AGENTGRAPH_LLM_TIMEOUT_SECONDS`, retried `AGENTGRAPH_LLM_MAX_RETRIES` times by the
openai client, then answered offline; its spending drawn from the process-wide
budget for `AGENTGRAPH_DAILY_COST_BUDGET_USD` unless a budget is given. Building a
model makes no network call, and the offline model's modules are imported only when
an offline model is actually built.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.models.budget import SpendBudget, shared_budget
from agentgraph.models.resilient import ResilientChatModel

__all__ = ["KEYLESS_API_KEY", "build_chat_model", "build_openai_model"]

KEYLESS_API_KEY = "not-needed"
"""Sent when only `OPENAI_BASE_URL` is set (local vLLM/Ollama servers ignore it)."""


def build_openai_model(settings: Settings) -> ChatOpenAI:
    """The `ChatOpenAI` client the settings describe (no network call is made here)."""
    api_key = settings.openai_api_key or SecretStr(KEYLESS_API_KEY)
    return ChatOpenAI(
        model=settings.model,
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        # ChatOpenAI turns usage off in streams for custom base URLs; costs need it.
        stream_usage=True,
    )


def _offline_model(settings: Settings, clock: Clock) -> BaseChatModel:
    # Imported here so that importing the factory never loads the rule tables.
    from agentgraph.models.offline import OfflineChatModel

    return OfflineChatModel(clock=clock, prompts_dir=str(settings.prompts_dir))


def build_chat_model(
    settings: Settings,
    *,
    budget: SpendBudget | None = None,
    fallback: BaseChatModel | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> BaseChatModel:
    """The chat model for agents: offline when no LLM is configured, else a
    `ResilientChatModel` over `ChatOpenAI` (call it with `ainvoke`/`astream`).

    `budget` defaults to the process-wide budget for `settings.daily_cost_budget_usd`
    (shared by every model built with that limit). `fallback` replaces the offline
    model, both as the unconfigured answer and as the fallback. `clock` tells the
    offline model which day it is (for "tomorrow", "25/12"); it is not used when
    `fallback` is given.
    """
    if fallback is None:
        fallback = _offline_model(settings, clock)
    if not settings.llm_configured:
        return fallback
    return ResilientChatModel(
        primary=build_openai_model(settings),
        fallback=fallback,
        budget=budget if budget is not None else shared_budget(settings.daily_cost_budget_usd),
    )
