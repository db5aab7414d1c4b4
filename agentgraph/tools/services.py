"""What a tool reads besides its arguments: who it acts for, and the graph's services.

Identity (tenant and phone) comes from the run's `Context` (`ToolRuntime.context`),
never from model-written arguments, and is required: a run without it fails with a
clear error instead of acting for a default user. Services (the domain backend,
settings, the clock and the prompt library) are bound when the assistant graph is
built; its tool node hands them to every call through the run config
(`with_services`). Why the config and not an injected argument: LangGraph's
`ToolNode` strips caller-supplied values of injected arguments, so a model cannot
forge them; the run config is set by the graph itself and is never shown to the
model or recorded in traces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.prebuilt import ToolRuntime

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.context import Context
from agentgraph.domain import Domain
from agentgraph.faults import Faults
from agentgraph.prompts import PromptLibrary, prompt_library

__all__ = ["ToolServices", "identity", "services_of", "thread_id", "with_services"]

SERVICES_KEY = "agentgraph_tool_services"


@dataclass(frozen=True)
class ToolServices:
    """The services every tool of one assistant graph shares."""

    domain: Domain
    settings: Settings
    clock: Clock = SYSTEM_CLOCK
    prompts: PromptLibrary = field(init=False)
    faults: Faults = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompts", prompt_library(self.settings.prompts_dir))
        object.__setattr__(self, "faults", Faults.from_settings(self.settings))


def with_services(config: RunnableConfig, services: ToolServices) -> RunnableConfig:
    """`config` with `services` for the tools it runs."""
    configurable = {**(config.get("configurable") or {}), SERVICES_KEY: services}
    return {**config, "configurable": configurable}


def services_of(runtime: ToolRuntime[Context, Any]) -> ToolServices:
    """The services the graph's tool node handed to this call."""
    value = ((runtime.config or {}).get("configurable") or {}).get(SERVICES_KEY)
    if not isinstance(value, ToolServices):
        raise RuntimeError(
            "agentgraph tools run inside the assistant graph's tool node, which hands "
            "them their services; call them through the graph"
        )
    return value


def identity(runtime: ToolRuntime[Context, Any]) -> tuple[str, str]:
    """(tenant, phone) of the user this run acts for."""
    ctx = runtime.context
    if not isinstance(ctx, Context):
        raise RuntimeError(
            "this run has no Context: pass context=Context(tenant_id=..., user_id=...)"
        )
    return ctx.tenant_id, ctx.user_id


def thread_id(runtime: ToolRuntime[Context, Any]) -> str:
    """The conversation's thread id; money-moving tools refuse to run without one."""
    configurable = (runtime.config or {}).get("configurable", {})
    value = configurable.get("thread_id")
    if not value:
        raise RuntimeError("this tool needs a thread_id in the run config")
    return str(value)
