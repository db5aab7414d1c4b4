"""The built-in agents as specs: each one's prompt file, tools and handoffs.

What a tenant runs comes from the agent registry (`agentgraph.agents.roster`); these
specs describe the shipped set (`agentgraph.domain.shipped_agents`), which is also
what a tenant with nothing in the registry runs. Triage binds only handoffs, so it
cannot act on the user's data; greetings, thanks, "help" and "menu" it answers
itself. Each specialist binds its own tools, the tools every specialist shares (the
user's own profile and the way to a human), and handoffs to the other agents.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentgraph.domain.shipped_agents import AGENT_TEMPLATES
from agentgraph.state import AGENT_NAMES, AgentName

__all__ = ["SPECS", "AgentSpec"]


@dataclass(frozen=True)
class AgentSpec:
    """What makes one agent: its name, prompt file, tools and handoff destinations."""

    name: AgentName
    prompt_file: str
    tool_names: tuple[str, ...]
    handoffs: tuple[AgentName, ...]
    description: str


SPECS: dict[AgentName, AgentSpec] = {
    name: AgentSpec(
        name=name,
        prompt_file=f"{name}.md",
        tool_names=AGENT_TEMPLATES[name].tools,
        handoffs=tuple(a for a in AGENT_NAMES if a != name),
        description=AGENT_TEMPLATES[name].description.format(business="the business"),
    )
    for name in AGENT_NAMES
}
