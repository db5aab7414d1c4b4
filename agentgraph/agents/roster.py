"""What one tenant's assistant runs this turn, built from the agent registry.

`Rosters(view, prompts).for_tenant(tenant, check=...)` answers a `Roster`: for each
agent the graph has a node for, the registry's agent (the built-in set when the
registry holds nothing for the tenant), its system prompt (the registry's, or the
shipped `prompts/<type>.md`), the call options of its model config, and its tools:
its enabled catalogue tools plus a handoff to every other agent the tenant offers
(active or in maintenance), described by that agent's registry entry and carrying its
capabilities. Triage binds only handoffs. Rosters are rebuilt only when the
registry view hands out a new snapshot, so a turn with no registry change costs a
dictionary lookup; the chat model bound to an agent's tools is cached on its roster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from agentgraph.domain.agent_records import Agent
from agentgraph.domain.agent_view import AgentView, TenantAgents
from agentgraph.domain.shipped_agents import builtin_agents
from agentgraph.prompts import PromptLibrary
from agentgraph.state import AGENT_NAMES, AgentName
from agentgraph.tools import TOOLS
from agentgraph.tools.handoff import make_handoff_tool

__all__ = ["AgentSetup", "Roster", "Rosters", "specialists_text"]


@dataclass(eq=False)
class AgentSetup:
    """One agent of one tenant, ready to run."""

    agent: Agent
    template: str
    tools: list[BaseTool]
    options: dict[str, Any]
    _bound: dict[int, Runnable[Any, Any]] = field(default_factory=dict)

    @property
    def allowed(self) -> dict[str, BaseTool]:
        """The agent's tools by name (what the tool node lets it call)."""
        return {t.name: t for t in self.tools}

    def bound(self, model: BaseChatModel) -> Runnable[Any, Any]:
        """`model` bound to this agent's tools and model options (cached)."""
        runnable = self._bound.get(id(model))
        if runnable is None:
            runnable = model.bind_tools(self.tools)
            if self.options:
                runnable = runnable.bind(**self.options)
            self._bound[id(model)] = runnable
        return runnable


@dataclass(eq=False)
class Roster:
    """The agents one tenant runs, by graph node name (agents with no node are left out)."""

    tenant: str
    agents: dict[AgentName, AgentSetup]

    def offered(self, name: str) -> AgentSetup | None:
        """The agent `name` if it takes conversations (active or in maintenance)."""
        setup = self.agents.get(name)  # type: ignore[call-overload]
        return setup if setup is not None and setup.agent.status != "inactive" else None

    def allowed(self, name: str) -> Mapping[str, BaseTool]:
        """Tools agent `name` may call now; none when it is not offered."""
        setup = self.offered(name)
        return setup.allowed if setup is not None else {}


def specialists_text(roster: Roster) -> str:
    """For the triage prompt: each offered specialist and its handoff, then what this
    tenant does not offer (so the model says so instead of routing)."""
    lines = []
    missing = []
    for name in AGENT_NAMES:
        if name == "triage":
            continue
        setup = roster.offered(name)
        if setup is None:
            missing.append(name)
        else:
            lines.append(f"- {setup.agent.description.rstrip('.')}: transfer_to_{name}.")
    if missing:
        lines.append(
            "Not offered here: " + ", ".join(missing) + ". If asked for that, say politely "
            "that you cannot help with it here and show what you can do."
        )
    return "\n".join(lines)


def _options(agent: Agent) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if agent.model.model:
        options["model"] = agent.model.model
    if agent.model.temperature is not None:
        options["temperature"] = agent.model.temperature
    if agent.model.max_tokens is not None:
        options["max_tokens"] = agent.model.max_tokens
    return options


def build_roster(snapshot: TenantAgents, prompts: PromptLibrary) -> Roster:
    """The roster of one registry snapshot."""
    offered = {n: snapshot.offered(n) for n in AGENT_NAMES}
    agents: dict[AgentName, AgentSetup] = {}
    for name in AGENT_NAMES:
        agent = snapshot.by_type.get(name)
        if agent is None:
            continue
        handoffs = [
            make_handoff_tool(other, peer.description or None, peer.capabilities)
            for other, peer in offered.items()
            if peer is not None and other != name
        ]
        own = [] if name == "triage" else [TOOLS[t] for t in agent.tools if t in TOOLS]
        agents[name] = AgentSetup(
            agent=agent,
            template=agent.system_prompt or prompts.text(f"{name}.md"),
            tools=own + handoffs,
            options=_options(agent),
        )
    return Roster(snapshot.tenant, agents)


class Rosters:
    """Rosters per tenant, rebuilt when the registry view's snapshot changes."""

    def __init__(self, view: AgentView, prompts: PromptLibrary) -> None:
        self._view = view
        self._prompts = prompts
        self._built: dict[str, tuple[TenantAgents | None, Roster]] = {}
        # Shipped prompt files are read now: file I/O inside the event loop blocks runs.
        for name in AGENT_NAMES:
            prompts.text(f"{name}.md")

    async def for_tenant(self, tenant: str, *, check: bool = True) -> Roster:
        """The tenant's roster; `check` looks at the registry's change token (once per
        turn), otherwise the cached snapshot is trusted."""
        snapshot = await self._view.tenant_agents(tenant, check=check)
        built = self._built.get(tenant)
        if built is not None and built[0] is snapshot:
            return built[1]
        roster = build_roster(snapshot or builtin_agents(tenant), self._prompts)
        self._built[tenant] = (snapshot, roster)
        return roster
