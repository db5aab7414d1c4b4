"""The node every agent shares: prompt + trimmed history -> model with its tools -> route.

An agent is declared by an `AgentSpec` (name, prompt file, tools, handoffs). Its node
renders the prompt with the run's context (the tenant's business name, read per turn
through the domain's cached tenant names), today's date in Kigali and the running
summary, calls the chat model bound to exactly the agent's tools, records token
usage and estimated cost for the turn, and routes to the tool node when the model
asked for tools, else ends the turn. A model that returns nothing usable still
produces a polite reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime
from langgraph.types import Command

from agentgraph.agents.specs import AgentSpec
from agentgraph.clock import KIGALI, Clock
from agentgraph.context import Context
from agentgraph.domain import Domain
from agentgraph.models.pricing import estimate_cost_usd
from agentgraph.observability.metrics import LLM_COST, LLM_TOKENS
from agentgraph.state import AssistantState
from agentgraph.tools.idempotency import CREATED_AT, TURN_KEY

__all__ = ["EMPTY_REPLY", "make_agent_node", "render_prompt", "usage_update"]

log = logging.getLogger(__name__)

EMPTY_REPLY = "Sorry, I did not catch that. You can ask about trips, your wallet or support."


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_prompt(template: str, ctx: Context, summary: str, business: str, today: str) -> str:
    """The agent's system prompt for this run."""
    values = _SafeDict(
        business=business,
        today=today,
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
    spec: AgentSpec,
    model: BaseChatModel,
    tools: list[BaseTool],
    *,
    template: str,
    domain: Domain,
    clock: Clock,
) -> AgentNode:
    """Build the node function for `spec` with `model` bound to `tools`.

    `template` is the agent's prompt text, read by the builder (file I/O inside the
    event loop would block every run)."""
    bound = model.bind_tools(tools)

    async def agent_node(
        state: AssistantState, runtime: Runtime[Context]
    ) -> Command[Literal["tools", "__end__"]]:
        ctx = runtime.context
        business = await domain.tenant_names.name(ctx.tenant_id)
        today = clock.now().astimezone(KIGALI).strftime("%A %Y-%m-%d")
        system = SystemMessage(render_prompt(template, ctx, state.summary, business, today))
        runnable = bound.bind(model=ctx.model) if ctx.model else bound
        answer = await runnable.ainvoke([system, *state.messages])
        if not isinstance(answer, AIMessage):
            answer = AIMessage(content=str(getattr(answer, "content", answer)))
        answer.name = spec.name
        # Tools read this to keep confirmation deadlines fixed across re-runs; the turn
        # key lets a crashed turn's replies be found again in the checkpoint.
        answer.response_metadata[CREATED_AT] = clock.now().isoformat()
        answer.response_metadata[TURN_KEY] = state.turn_key
        if not answer.tool_calls and not answer.text.strip():
            log.warning("agent %s produced an empty reply; answering with the default", spec.name)
            answer.content = EMPTY_REPLY
        goto: Literal["tools", "__end__"] = "tools" if answer.tool_calls else "__end__"
        usage = usage_update(spec.name, answer)
        return Command(goto=goto, update={"messages": [answer], "turn_usage": usage})

    agent_node.__name__ = spec.name
    return agent_node
