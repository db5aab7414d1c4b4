"""Chat models for the agents: `build_chat_model(settings)` is the one entry point.

Agents and the conductor import models from here, not from the modules, so the
layout below can change without touching them. Callers may rely on these names
staying importable from `agentgraph.models`: the factory (`build_chat_model`,
`build_openai_model`), the async-only LLM wrapper with the offline fallback
(`ResilientChatModel`, `OFFLINE_MODEL_NAME`), the spending limit (`SpendBudget`,
`shared_budget`), pricing (`estimate_cost_usd`, `price_for`, `PRICES`, `ModelPrice`)
and the offline rule-based `OfflineChatModel`, which is imported on first access so
that importing this package never loads its rule tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgraph.models.answers import OFFLINE_MODEL_NAME
from agentgraph.models.budget import SpendBudget, shared_budget
from agentgraph.models.factory import build_chat_model, build_openai_model
from agentgraph.models.pricing import PRICES, ModelPrice, estimate_cost_usd, price_for
from agentgraph.models.resilient import ResilientChatModel

if TYPE_CHECKING:
    from agentgraph.models.offline import OfflineChatModel

__all__ = [
    "OFFLINE_MODEL_NAME",
    "PRICES",
    "ModelPrice",
    "OfflineChatModel",
    "ResilientChatModel",
    "SpendBudget",
    "build_chat_model",
    "build_openai_model",
    "estimate_cost_usd",
    "price_for",
    "shared_budget",
]


def __getattr__(name: str) -> Any:
    if name == "OfflineChatModel":
        from agentgraph.models.offline import OfflineChatModel

        return OfflineChatModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
