"""The graph's single tool node: runs the active agent's tool calls, then routes.

It enforces the agent's tool set as the tenant's roster has it this turn (a call to
any other tool, or to a tool disabled in the agent registry, gets an error result,
never runs), lets at most one confirmation-gated tool and one handoff run per model
step, caps handoffs per turn so two agents can never bounce a user forever, turns
unexpected tool failures into a polite result (logged with the traceback), and then
goes back to the active agent, or to the agent a handoff named.

Each executed call runs in a `tool` span (OpenTelemetry, when export is on) naming
the tool, the agent and whether the call failed, paused for a confirmation or handed
off; never its arguments or result, which quote the user.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import ToolCallRequest, ToolInvocationError
from langgraph.runtime import Runtime
from langgraph.types import Command

from agentgraph.agents.roster import Rosters
from agentgraph.context import Context
from agentgraph.handoff import HANDOFF_DESTINATION, handoff_destination
from agentgraph.observability import otel
from agentgraph.state import AgentName, AssistantState
from agentgraph.tools import TOOLS, ToolServices, needs_confirmation, with_services

log = logging.getLogger(__name__)

MAX_HANDOFFS_PER_TURN = 3
TOOL_FAILURE = (
    "That did not work because of a temporary problem on our side. Please try again shortly."
)


def _on_tool_error(exc: Exception) -> str:
    otel.mark_error(exc)
    if isinstance(exc, ToolInvocationError):
        # The model sent bad arguments: tell it what was wrong so it can correct itself.
        log.info("tool %s called with invalid arguments", exc.tool_name)
        return exc.message
    log.error("tool failed: %s", type(exc).__name__, exc_info=exc)
    return TOOL_FAILURE


async def _traced_call(
    request: ToolCallRequest,
    execute: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
) -> ToolMessage | Command[Any]:
    """Run one tool call in its `tool` span (errors are marked by `_on_tool_error`)."""
    if not otel.otel_enabled():
        return await execute(request)
    name = request.tool_call["name"]
    attributes: otel.Attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": request.tool_call["id"] or "",
    }
    agent = getattr(request.state, "active_agent", None)
    if isinstance(agent, str):
        attributes["agentgraph.agent"] = agent
    with otel.span("tool", attributes):
        try:
            result = await execute(request)
        except GraphBubbleUp:
            # A confirmation pause travels as an exception; it is no failure.
            otel.annotate(tool_paused=True)
            raise
        if isinstance(result, ToolMessage):
            otel.annotate(tool_status=result.status)
        else:
            otel.annotate(tool_status="command")
        return result


def _rejection(call: ToolCall, text: str, tool: BaseTool | None = None) -> ToolMessage:
    # A refused handoff still says where it was headed, so readers of the history
    # (the summary, the offline model) know it moved nothing.
    destination = handoff_destination(tool) if tool is not None else None
    metadata = {HANDOFF_DESTINATION: destination} if destination else {}
    return ToolMessage(
        text,
        tool_call_id=call["id"] or "",
        name=call["name"],
        status="error",
        response_metadata=metadata,
    )


def make_tool_node(rosters: Rosters, services: ToolServices) -> Any:
    """Build the node that executes tool calls for whichever agent is active.

    Every call gets `services` through the run config (`agentgraph.tools.services`).
    One runner holds every catalogue tool (handoffs included: a handoff does the same
    whatever its description); which of them an agent may call is its roster's say."""
    runner = ToolNode(
        list(TOOLS.values()), handle_tool_errors=_on_tool_error, awrap_tool_call=_traced_call
    )

    async def tools(
        state: AssistantState, config: RunnableConfig, runtime: Runtime[Context]
    ) -> Command[Literal["triage", "booking", "payment", "support"]]:
        agent = state.active_agent
        roster = await rosters.for_tenant(runtime.context.tenant_id, check=False)
        allowed = roster.allowed(agent)
        last = state.messages[-1]
        if not isinstance(last, AIMessage):
            return Command(goto=agent)
        accepted: list[ToolCall] = []
        results: list[ToolMessage] = []
        confirmed_seen = handoff_seen = False
        handoffs = state.handoffs_this_turn
        for call in last.tool_calls:
            name = call["name"]
            tool = allowed.get(name)
            if tool is None:
                results.append(
                    _rejection(call, f"Tool '{name}' is not available to the {agent} agent.")
                )
                continue
            confirmed, handoff = needs_confirmation(tool), handoff_destination(tool) is not None
            if confirmed and confirmed_seen:
                results.append(
                    _rejection(call, "Only one action needing confirmation at a time.", tool)
                )
            elif handoff and (handoff_seen or handoffs >= MAX_HANDOFFS_PER_TURN):
                results.append(
                    _rejection(call, "No further handoff now; answer the user directly.", tool)
                )
            else:
                confirmed_seen |= confirmed
                handoff_seen |= handoff
                accepted.append(call)

        update: dict[str, Any] = {}
        goto: AgentName = agent
        if accepted:
            step = dataclasses.replace(
                state,
                messages=[*state.messages[:-1], last.model_copy(update={"tool_calls": accepted})],
            )
            output = await runner.ainvoke(step, with_services(config, services))
            for item in output if isinstance(output, list) else [output]:
                if isinstance(item, Command):
                    item_update = dict(item.update or {})
                    results.extend(item_update.pop("messages", []))
                    update.update(item_update)
                    if isinstance(item.goto, str) and item.goto:
                        goto = item.goto  # type: ignore[assignment]
                elif isinstance(item, dict):
                    results.extend(item.get("messages", []))
                elif isinstance(item, ToolMessage):
                    results.append(item)
        if goto != agent:
            update["active_agent"] = goto
            update["handoffs_this_turn"] = handoffs + 1
        # Results go back in the order the model asked for them.
        order = {c["id"]: i for i, c in enumerate(last.tool_calls)}
        results.sort(key=lambda m: order.get(getattr(m, "tool_call_id", None), len(order)))
        update["messages"] = results
        return Command(goto=goto, update=update)

    return tools
