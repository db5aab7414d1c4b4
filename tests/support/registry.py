"""The demo tenants' agents in the registry, for agent API tests.

    async with operator_server(settings) as op:
        ids = await seed_registry(settings)   # ids["easymo"]["payment"] -> agent id

easymo runs triage, booking, payment and support; acme runs triage and support
(`agentgraph.domain.shipped_agents`), all owned by their tenant, at version 1.
"""

from __future__ import annotations

from agentgraph.config import Settings
from agentgraph.domain.shipped_agents import seed_agents
from agentgraph.persistence import open_domain


async def seed_registry(settings: Settings) -> dict[str, dict[str, int]]:
    ids: dict[str, dict[str, int]] = {}
    async with open_domain(settings) as domain:
        await seed_agents(domain)
        for tenant in ("easymo", "acme"):
            agents = await domain.agents.all(tenant)
            ids[tenant] = {a.agent_type: a.id for a in agents}
    return ids
