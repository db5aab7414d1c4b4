"""The node every agent shares: prompt + trimmed history -> model with its tools -> route.

An agent is declared by an `AgentSpec` (name, prompt file, tool names). Its node
renders the prompt with the runtime context and the running summary, calls the chat
model bound to exactly the agent's tools, records token usage and estimated cost for
the turn, and routes to the tool node when the model asked for tools, else ends the
turn. A model that returns nothing usable still produces a polite reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime
from langgraph.types import Command

from agentgraph.context import Context
from agentgraph.models.pricing import estimate_cost_usd
from agentgraph.observability.metrics import LLM_COST, LLM_TOKENS
from agentgraph.prompts import load_text
from agentgraph.state import AgentName, AssistantState
from agentgraph.tools.common import CREATED_AT

log = logging.getLogger(__name__)

EMPTY_REPLY = "Sorry, I did not catch that. You can ask about trips, your wallet or support."


@dataclass(frozen=True)
class AgentSpec:
    """What makes one agent: its name, prompt file and the tools it may call."""

    name: AgentName
    prompt_file: str
    tool_names: tuple[str, ...]
    description: str


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_prompt(template: str, ctx: Context, summary: str, business: str) -> str:
    """The agent's system prompt for this run."""
    values = _SafeDict(
        business=business,
        today=datetime.now(UTC).strftime("%A %Y-%m-%d"),
        user_name=ctx.user_name or "the user",
        channel=ctx.channel,
        summary=summary or "(none)",
    )
    return template.format_map(values)


def usage_update(agent: str, message: AIMessage) -> dict[str, Any]:
    """Per-turn counters contributed by one model answer (also exported as metrics)."""
    usage: Mapping[str, Any] = message.usage_metadata or {}
    model_name = str(message.response_metadata.get("model_name", "unknown"))
    input_tokens = int(usage.get("input_tokens", 0))
    output_tokens = int(usage.get("output_tokens", 0))
    cost = estimate_cost_usd(model_name, usage)
    LLM_TOKENS.labels(agent, model_name, "input").inc(input_tokens)
    LLM_TOKENS.labels(agent, model_name, "output").inc(output_tokens)
    LLM_COST.labels(agent, model_name).inc(cost)
    return {
        "llm_calls": 1,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost,
        "fallbacks": 1 if message.response_metadata.get("fallback") else 0,
        "model": model_name,
    }


AgentNode = Callable[..., Awaitable[Command[Any]]]


def make_agent_node(
    spec: AgentSpec, model: BaseChatModel, tools: list[BaseTool], *, business: str = "easyMO"
) -> AgentNode:
    """Build the node function for `spec` with `model` bound to `tools`."""
    bound = model.bind_tools(tools)
    # Read at build time: file I/O inside the event loop would block every run.
    template = load_text(spec.prompt_file)

    async def agent_node(
        state: AssistantState, runtime: Runtime[Context]
    ) -> Command[Literal["tools", "__end__"]]:
        ctx = runtime.context or Context()
        system = SystemMessage(render_prompt(template, ctx, state.summary, business))
        runnable = bound.bind(model=ctx.model) if ctx.model else bound
        answer = await runnable.ainvoke([system, *state.messages])
        if not isinstance(answer, AIMessage):
            answer = AIMessage(content=str(getattr(answer, "content", answer)))
        answer.name = spec.name
        # Tools read this to keep confirmation deadlines fixed across re-runs.
        answer.response_metadata[CREATED_AT] = datetime.now(UTC).isoformat()
        if not answer.tool_calls and not _text(answer).strip():
            log.warning("agent %s produced an empty reply; answering with the default", spec.name)
            answer.content = EMPTY_REPLY
        goto: Literal["tools", "__end__"] = "tools" if answer.tool_calls else "__end__"
        usage = usage_update(spec.name, answer)
        return Command(goto=goto, update={"messages": [answer], "turn_usage": usage})

    agent_node.__name__ = spec.name
    return agent_node


def _text(message: AIMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in content
    )
