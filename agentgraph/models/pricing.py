"""USD cost of one chat-model call, computed from the provider's reported token usage.

`estimate_cost_usd(model_name, usage)` takes the model name a response reports (dated
snapshots such as `gpt-4o-mini-2024-07-18` and `openai/`-prefixed names resolve to
their base model) and the `usage_metadata` of a LangChain `AIMessage` (a plain dict
with `input_tokens`, `output_tokens` and `input_token_details.cache_read` works too),
and returns a non-negative float. Cached input tokens are charged at the table's
cached rate, or half the input rate when the table has none; models missing from
`PRICES` (local vLLM/Ollama models, `"offline"`) and missing usage cost 0.0. Nothing
here counts tokens itself: no tokenizer, no tiktoken, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["PRICES", "ModelPrice", "estimate_cost_usd", "normalize_model_name", "price_for"]

_PER_TOKEN = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per one million tokens."""

    input: float
    output: float
    cached_input: float | None = None

    @property
    def cached_input_rate(self) -> float:
        """The cached-input price, or half the input price when none is published."""
        return self.cached_input if self.cached_input is not None else self.input / 2


PRICES: Mapping[str, ModelPrice] = MappingProxyType(
    {
        "gpt-4o-mini": ModelPrice(input=0.15, output=0.60, cached_input=0.075),
        "gpt-4o": ModelPrice(input=2.50, output=10.00, cached_input=1.25),
        "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60, cached_input=0.10),
        "gpt-4.1": ModelPrice(input=2.00, output=8.00, cached_input=0.50),
        "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40, cached_input=0.025),
        "o4-mini": ModelPrice(input=1.10, output=4.40, cached_input=0.275),
        "gpt-5-mini": ModelPrice(input=0.25, output=2.00, cached_input=0.025),
    }
)

_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_PROVIDER_PREFIXES = ("openai/", "openai:")


def normalize_model_name(model_name: str) -> str:
    """`" OpenAI/GPT-4o-mini-2024-07-18 "` -> `"gpt-4o-mini"`: lower case, no provider
    prefix, no dated snapshot suffix."""
    name = model_name.strip().lower()
    for prefix in _PROVIDER_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return _DATED_SUFFIX.sub("", name)


def price_for(model_name: str | None) -> ModelPrice | None:
    """The price row for a model name, or None when the model is not in `PRICES`."""
    if not model_name:
        return None
    return PRICES.get(normalize_model_name(model_name))


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def _token_counts(usage: Mapping[str, Any]) -> tuple[int, int, int]:
    """(input tokens including cached ones, cached input tokens, output tokens)."""
    if "input_tokens" in usage or "output_tokens" in usage:
        details = usage.get("input_token_details") or {}
        cached = details.get("cache_read") if isinstance(details, Mapping) else None
        return (
            _count(usage.get("input_tokens")),
            _count(cached),
            _count(usage.get("output_tokens")),
        )
    # The raw OpenAI `usage` object, for callers holding a provider response.
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    return (
        _count(usage.get("prompt_tokens")),
        _count(cached),
        _count(usage.get("completion_tokens")),
    )


def estimate_cost_usd(model_name: str | None, usage: Mapping[str, Any] | None) -> float:
    """USD cost of one call from its token usage; 0.0 for unknown models or no usage."""
    price = price_for(model_name)
    if price is None or not usage:
        return 0.0
    input_tokens, cached_tokens, output_tokens = _token_counts(usage)
    cached_tokens = min(cached_tokens, input_tokens)
    cost = (
        (input_tokens - cached_tokens) * price.input
        + cached_tokens * price.cached_input_rate
        + output_tokens * price.output
    ) / _PER_TOKEN
    return cost
