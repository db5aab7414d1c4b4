"""The offline chat model itself: a real LangChain chat model that needs no network.

`OfflineChatModel()` answers like a tool-calling LLM: `bind_tools(tools)` returns a
copy that knows the tools' names and argument schemas, and each call returns one
`AIMessage` that is either a single tool call (only ever of a bound tool, with the
argument names the tools declare) or a non-empty text reply, in English or French
after the user. Handoff tools are known by their metadata (`agentgraph.handoff`), and
so is what their destinations offer: the menu and the fallback list exactly that,
and a request no bound agent serves is answered with what cannot be done here. It
plays the agent its tools imply (only handoffs: triage; otherwise booking, payment
or support by their domain tools),
unless `role=` or an `agent: <name>` line in a system message says otherwise.
Output is deterministic for a given conversation and day; the day is the Kigali
calendar day of the injected `clock` (default `SYSTEM_CLOCK`), so a test moves a
`ManualClock` to decide what "the day after tomorrow" or "25/12" mean.
`usage_metadata` holds character-based token estimates and `response_metadata` is
`{"model_name": "offline"}`. Intent, slot and reply tables are read from `prompts/`
(`prompts_dir=` overrides).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from agentgraph.clock import KIGALI, SYSTEM_CLOCK, Clock
from agentgraph.handoff import handoff_capabilities, handoff_destination
from agentgraph.models.offline.policy import Call, decide, message_text
from agentgraph.models.offline.tables import load_tables
from agentgraph.state import AGENT_NAMES

MODEL_NAME = "offline"
_AGENT_LINE = re.compile(r"^\s*agent:\s*([a-z_]+)\s*$", re.IGNORECASE | re.MULTILINE)
# Rough size of a token in characters for English/French text; never a real tokenizer,
# because tiktoken downloads its tables on first use and fails offline.
_CHARS_PER_TOKEN = 4
# Per-message framing tokens chat APIs add (role markers, separators).
_TOKENS_PER_MESSAGE = 3


def estimate_tokens(text: str) -> int:
    """A cheap token estimate: about four characters per token."""
    return math.ceil(len(text) / _CHARS_PER_TOKEN) if text else 0


class OfflineChatModel(BaseChatModel):
    """Rule-based chat model that plays triage, booking, payment or support offline."""

    role: str | None = Field(
        default=None,
        description="Agent to play (triage, booking, payment, support); inferred when None.",
    )
    prompts_dir: str | None = Field(
        default=None,
        description="Directory holding intents.json and offline_replies.json; default prompts/.",
    )
    tool_schemas: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Bound tools: name -> JSON schema of the arguments (set by bind_tools).",
    )
    handoffs: dict[str, str] = Field(
        default_factory=dict,
        description="Bound handoff tools: name -> destination agent (from their metadata).",
    )
    offered: list[str] | None = Field(
        default=None,
        description="Capabilities the bound handoffs' agents offer; None when none says.",
    )
    # Kept out of model_dump, and so out of traced invocation parameters: a clock is a
    # collaborator, not a setting of the model.
    clock: Clock = Field(
        default=SYSTEM_CLOCK,
        exclude=True,
        description="Source of the current time; its Kigali date is 'today' for dates.",
    )

    @property
    def _llm_type(self) -> str:
        return "agentgraph-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": MODEL_NAME, "role": self.role, "tools": sorted(self.tool_schemas)}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> OfflineChatModel:
        """A copy of this model that knows `tools`; `tool_choice` and kwargs are accepted
        for interface compatibility and have no effect (the rules pick the tool)."""
        schemas: dict[str, dict[str, Any]] = {}
        handoffs: dict[str, str] = {}
        offered: list[str] | None = None
        for tool in tools:
            spec = convert_to_openai_tool(tool)
            function = spec.get("function", spec)
            name = str(function["name"])
            schemas[name] = dict(function.get("parameters") or {})
            destination = handoff_destination(tool)
            if destination is not None:
                handoffs[name] = destination
                capabilities = handoff_capabilities(tool)
                if capabilities is not None:
                    offered = [*(offered or []), *capabilities]
        return self.model_copy(
            update={"tool_schemas": schemas, "handoffs": handoffs, "offered": offered}
        )

    def infer_role(self, messages: Sequence[BaseMessage] = ()) -> str:
        """The agent this model plays: `role`, else a system `agent:` line, else the tools."""
        if self.role:
            return self.role
        for message in messages:
            if isinstance(message, SystemMessage):
                m = _AGENT_LINE.search(message_text(message))
                if m and m.group(1).lower() in AGENT_NAMES:
                    return m.group(1).lower()
        names = set(self.tool_schemas)
        domain = {n for n in names if n not in self.handoffs}
        if not domain:
            return "triage"
        roles = load_tables(self.prompts_dir).roles
        overlap = {role: len(domain & tools) for role, tools in roles.items()}
        best = max(overlap, key=lambda role: overlap[role])
        if overlap[best]:
            return best
        # Only shared tools (balance, profile): the specialist with no handoff to itself.
        reachable = set(self.handoffs.values())
        unreachable = [r for r in roles if r not in reachable]
        return unreachable[0] if len(unreachable) == 1 else "specialist"

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        plan = decide(
            messages,
            role=self.infer_role(messages),
            bound=self.tool_schemas,
            handoffs=self.handoffs,
            offered=self.offered,
            tables=load_tables(self.prompts_dir),
            # Calendar days are Rwandan days, as the trip tools read them.
            today=self.clock.now().astimezone(KIGALI).date(),
        )
        input_tokens = self._input_tokens(messages)
        if isinstance(plan, Call):
            call_id = _call_id(messages, plan.name, plan.args)
            output_text = plan.name + json.dumps(plan.args, sort_keys=True, ensure_ascii=False)
            return AIMessage(
                content=plan.say,
                tool_calls=[
                    {"name": plan.name, "args": plan.args, "id": call_id, "type": "tool_call"}
                ],
                usage_metadata=_usage(input_tokens, estimate_tokens(output_text)),
                response_metadata={"model_name": MODEL_NAME},
            )
        return AIMessage(
            content=plan.text,
            usage_metadata=_usage(input_tokens, estimate_tokens(plan.text)),
            response_metadata={"model_name": MODEL_NAME},
        )

    def _input_tokens(self, messages: Sequence[BaseMessage]) -> int:
        # Real providers count the tool schemas they are sent as input too.
        tools = json.dumps(self.tool_schemas, sort_keys=True) if self.tool_schemas else ""
        text_tokens = sum(estimate_tokens(message_text(m)) for m in messages)
        return text_tokens + _TOKENS_PER_MESSAGE * len(messages) + estimate_tokens(tools)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Pure computation in well under a millisecond per turn: no executor hop needed.
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages))])


def _usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


def _call_id(messages: Sequence[BaseMessage], name: str, args: Mapping[str, Any]) -> str:
    """A tool-call id that is stable for a conversation and distinct across its turns."""
    digest = hashlib.sha256()
    digest.update(str(len(messages)).encode())
    for message in messages:
        digest.update(message.type.encode())
        digest.update(message_text(message).encode("utf-8", "replace"))
    digest.update(name.encode())
    digest.update(json.dumps(dict(args), sort_keys=True, ensure_ascii=False).encode())
    return "call_" + digest.hexdigest()[:24]
