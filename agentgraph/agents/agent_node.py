"""The node every agent shares: prompt + trimmed history -> model with its tools -> route.

What an agent is comes from the tenant's roster (`agentgraph.agents.roster`, built
from the agent registry; the first agent step of a turn checks the registry's change
token, later steps trust the cached roster). The node renders the agent's prompt with
the run's context (the tenant's business name, read per turn through the domain's
cached tenant names), today's date in Kigali, the running summary and, for triage,
the specialists this tenant offers; calls the chat model bound to exactly the
agent's tools with its model options; records token usage and estimated cost for the
turn; and routes to the tool node when the model asked for tools, else ends the
turn. An agent in maintenance answers with its configured message without calling
the model; an agent the tenant no longer offers passes the turn to triage (and
without triage, or with no specialist left, the user is told the service is
unavailable). A model that returns
nothing usable still produces a polite reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command

from agentgraph.agents.roster import Rosters, specialists_text
from agentgraph.clock import KIGALI, Clock
from agentgraph.context import Context
from agentgraph.domain import Domain
from agentgraph.models.pricing import estimate_cost_usd
from agentgraph.observability.metrics import LLM_COST, LLM_TOKENS
from agentgraph.state import AgentName, AssistantState
from agentgraph.tools.idempotency import CREATED_AT, TURN_KEY

__all__ = ["EMPTY_REPLY", "UNAVAILABLE_REPLY", "make_agent_node", "render_prompt", "usage_update"]

log = logging.getLogger(__name__)

EMPTY_REPLY = "Sorry, I did not catch that. You can ask about trips, your wallet or support."
UNAVAILABLE_REPLY = "Sorry, this service is not available right now. Please try again later."


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_prompt(
    template: str, ctx: Context, summary: str, business: str, today: str, specialists: str = ""
) -> str:
    """The agent's system prompt for this run."""
    values = _SafeDict(
        business=business,
        today=today,
        user_name=ctx.user_name or "the user",
        channel=ctx.channel,
        summary=summary or "(none)",
        specialists=specialists,
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
    name: AgentName,
    model: BaseChatModel,
    *,
    rosters: Rosters,
    domain: Domain,
    clock: Clock,
) -> AgentNode:
    """Build the node function of agent `name`, run with `model` as each tenant's
    roster configures it."""

    async def agent_node(
        state: AssistantState, runtime: Runtime[Context]
    ) -> Command[Literal["tools", "triage", "__end__"]]:
        ctx = runtime.context
        # turn_usage is reset at the start of every turn: the first step checks for changes.
        roster = await rosters.for_tenant(ctx.tenant_id, check=not state.turn_usage)
        setup = roster.offered(name)
        if name == "triage" and not any(roster.offered(n) for n in roster.agents if n != name):
            setup = None  # nothing to route to: no model call can help
        if setup is None:
            if name != "triage" and roster.offered("triage") is not None:
                return Command(goto="triage", update={"active_agent": "triage"})
            return _say(name, UNAVAILABLE_REPLY, state, clock)
        if setup.agent.status == "maintenance":
            return _say(name, setup.agent.maintenance_message or UNAVAILABLE_REPLY, state, clock)
        business = await domain.tenant_names.name(ctx.tenant_id)
        today = clock.now().astimezone(KIGALI).strftime("%A %Y-%m-%d")
        specialists = specialists_text(roster) if name == "triage" else ""
        prompt = render_prompt(setup.template, ctx, state.summary, business, today, specialists)
        runnable = setup.bound(model)
        if ctx.model:
            runnable = runnable.bind(model=ctx.model)
        answer = await runnable.ainvoke([SystemMessage(prompt), *state.messages])
        if not isinstance(answer, AIMessage):
            answer = AIMessage(content=str(getattr(answer, "content", answer)))
        _stamp(answer, name, state, clock)
        if not answer.tool_calls and not answer.text.strip():
            log.warning("agent %s produced an empty reply; answering with the default", name)
            answer.content = EMPTY_REPLY
        goto: Literal["tools", "__end__"] = "tools" if answer.tool_calls else "__end__"
        usage = usage_update(name, answer)
        return Command(goto=goto, update={"messages": [answer], "turn_usage": usage})

    agent_node.__name__ = name
    return agent_node


def _stamp(answer: AIMessage, name: str, state: AssistantState, clock: Clock) -> None:
    answer.name = name
    # Tools read this to keep confirmation deadlines fixed across re-runs; the turn
    # key lets a crashed turn's replies be found again in the checkpoint.
    answer.response_metadata[CREATED_AT] = clock.now().isoformat()
    answer.response_metadata[TURN_KEY] = state.turn_key


def _say(name: str, text: str, state: AssistantState, clock: Clock) -> Command[Any]:
    """End the turn with `text` from agent `name`, no model called."""
    answer = AIMessage(content=text)
    _stamp(answer, name, state, clock)
    return Command(goto="__end__", update={"messages": [answer]})
