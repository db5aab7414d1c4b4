"""Prometheus metrics shared by the library and the server, in one registry.

Every metric agentgraph exports lives in `REGISTRY` (not the prometheus_client
global one, so tests and embedding applications can read exactly ours). Modules
that add metrics import `REGISTRY` and register on it; `render()` gives the text
format `GET /metrics` serves.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

TURN_SECONDS = Histogram(
    "agentgraph_turn_seconds",
    "Wall time of one assistant turn, from message in to replies out.",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
TURNS = Counter(
    "agentgraph_turns_total",
    "Assistant turns by channel and outcome (ok, error).",
    ["channel", "outcome"],
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "agentgraph_llm_tokens_total",
    "Model tokens by agent, model and direction (input, output).",
    ["agent", "model", "direction"],
    registry=REGISTRY,
)
LLM_COST = Counter(
    "agentgraph_llm_cost_usd_total",
    "Estimated model spend in USD by agent and model.",
    ["agent", "model"],
    registry=REGISTRY,
)


def render() -> bytes:
    """The registry in Prometheus text exposition format."""
    return generate_latest(REGISTRY)
