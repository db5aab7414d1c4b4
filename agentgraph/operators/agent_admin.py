"""The agent registry as operators manage it, on behalf of a principal and within its tenant.

Every method takes the calling `Principal` first. A tenant's operators see their
tenant's own agents and the global ones (with their tenant's configuration applied);
another tenant's agent is `AgentNotFound` (HTTP 404), like a missing one. Who may
change what:

- a super admin changes any agent itself (global ones included), creates agents
  for any tenant or global ones (`tenant=None`), and configures a global agent for a
  tenant it names;
- a tenant admin creates, changes and archives their tenant's own agents, and
  configures a global agent for their tenant only (`configure`, `reset`); changing or
  archiving the global agent itself is `PermissionDenied` (403), since every tenant
  runs it;
- readers (every role) list and read agents, their history and configurations.

Writes take the version the caller read (`expected_version`; None means "whatever
is current": the write then wins over concurrent ones) and raise
`AgentVersionConflict` when it is stale. Archiving frees the name, keeps the history
readable, and sends conversations the agent was serving back to triage on their
next turn (`AgentRegistry.delete`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentgraph.domain import Domain, DomainError, TenantNotFound
from agentgraph.domain.agent_configurations import AgentConfiguration, tenant_configuration
from agentgraph.domain.agent_records import Agent, AgentChange
from agentgraph.domain.shipped_agents import AGENT_TEMPLATES
from agentgraph.operators.admin import PermissionDenied
from agentgraph.operators.principal import Principal
from agentgraph.tools import tool_catalogue

__all__ = ["AgentAdmin", "CatalogueTool", "NotAGlobalAgent", "TenantRequired"]


class NotAGlobalAgent(DomainError):
    """A configuration was asked of an agent a tenant owns: change the agent itself."""

    code = "not_a_global_agent"

    def __init__(self, agent_id: int) -> None:
        self.agent_id = agent_id
        super().__init__(
            f"Agent {agent_id} belongs to one tenant, so it has no per-tenant "
            f"configuration: change it with PATCH /api/v1/agents/{agent_id}."
        )


class TenantRequired(DomainError):
    """A super admin did not say which tenant's configuration it means."""

    code = "tenant_required"
    field = "tenant"
    location = "query"

    def __init__(self) -> None:
        super().__init__("A super_admin names the tenant whose configuration this is.")


@dataclass(frozen=True)
class CatalogueTool:
    """One tool of the catalogue; `agent_types` ship with it enabled."""

    name: str
    description: str
    moves_money: bool
    needs_confirmation: bool
    agent_types: tuple[str, ...]


def _global_denied(agent: Agent, verb: str) -> PermissionDenied:
    return PermissionDenied(
        f"Agent {agent.id} is global: only a super_admin may {verb} it. Configure it for "
        f"your tenant with PATCH /api/v1/agents/{agent.id}/configuration."
    )


class AgentAdmin:
    """The registry's operator operations (module docstring)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    async def _tenant(self, principal: Principal, tenant: str | None) -> str | None:
        """The tenant a call is about: a scoped caller's own (naming another one is
        not found); a super admin's choice, which must exist."""
        if principal.scope is not None:
            if tenant is not None and tenant != principal.scope:
                raise TenantNotFound(tenant)
            return principal.scope
        if tenant is not None:
            await self.domain.tenants.get(tenant)
        return tenant

    @staticmethod
    def catalogue() -> list[CatalogueTool]:
        """Every tool an agent may be given, by name."""
        return [
            CatalogueTool(
                name=entry.name,
                description=entry.description,
                moves_money=entry.moves_money,
                needs_confirmation=entry.needs_confirmation,
                agent_types=tuple(t for t, a in AGENT_TEMPLATES.items() if entry.name in a.tools),
            )
            for entry in tool_catalogue()
        ]

    async def list_agents(
        self, principal: Principal, *, tenant: str | None, status: str | None
    ) -> list[Agent]:
        """Live agents the caller's tenant runs (its own and the global ones, configured
        for it), by id; a super admin sees the global ones, or a tenant it names."""
        scope = await self._tenant(principal, tenant)
        found = await self.domain.agents.all(scope)
        return [a for a in found if status is None or a.status == status]

    async def get_agent(self, principal: Principal, agent_id: int) -> Agent:
        """One live agent as the caller's tenant sees it; `AgentNotFound` otherwise."""
        return await self.domain.agents.get(agent_id, tenant=principal.scope)

    async def create_agent(
        self, principal: Principal, *, tenant: str | None, fields: Mapping[str, Any]
    ) -> Agent:
        """A new agent of the caller's tenant (a super admin names one, or none: global)."""
        target = await self._tenant(principal, tenant)
        agent = await self.domain.agents.create(target, actor=principal.subject, **fields)
        return agent

    async def update_agent(
        self,
        principal: Principal,
        agent_id: int,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None,
    ) -> Agent:
        """Change the agent itself (never a configuration: see `configure`)."""
        agent = await self.get_agent(principal, agent_id)
        if principal.scope is not None and agent.tenant is None:
            raise _global_denied(agent, "change")
        version = agent.version if expected_version is None else expected_version
        updated = await self.domain.agents.update(
            agent_id,
            changes,
            expected_version=version,
            actor=principal.subject,
            tenant=principal.scope,
        )
        return updated

    async def archive_agent(
        self, principal: Principal, agent_id: int, *, expected_version: int | None
    ) -> Agent:
        """Archive the agent: it stops running for every tenant that ran it."""
        agent = await self.get_agent(principal, agent_id)
        if principal.scope is not None and agent.tenant is None:
            raise _global_denied(agent, "archive")
        version = agent.version if expected_version is None else expected_version
        archived = await self.domain.agents.delete(
            agent_id, expected_version=version, actor=principal.subject, tenant=principal.scope
        )
        return archived

    async def history(self, principal: Principal, agent_id: int) -> list[AgentChange]:
        """The agent's audit trail the caller may see, oldest first (archived agents'
        included): the agent's own changes and its tenant's configuration changes."""
        changes = await self.domain.agents.history(agent_id, tenant=principal.scope)
        return changes

    async def _global_for(
        self, principal: Principal, agent_id: int, tenant: str | None
    ) -> tuple[str, Agent]:
        target = await self._tenant(principal, tenant)
        if target is None:
            raise TenantRequired()
        agent = await self.domain.agents.get(agent_id, tenant=target)
        if agent.tenant is not None:
            raise NotAGlobalAgent(agent_id)
        return target, agent

    async def configuration(
        self, principal: Principal, agent_id: int, *, tenant: str | None
    ) -> tuple[str, Agent, AgentConfiguration | None]:
        """Whose configuration this is, the global agent as that tenant runs it, and the
        configuration (None: the tenant runs the agent as defined)."""
        target, agent = await self._global_for(principal, agent_id, tenant)
        return target, agent, await tenant_configuration(self.domain.db, agent_id, target)

    async def configure(
        self,
        principal: Principal,
        agent_id: int,
        changes: Mapping[str, Any],
        *,
        tenant: str | None,
        expected_version: int | None,
    ) -> tuple[str, Agent, AgentConfiguration | None]:
        """Merge `changes` into the tenant's configuration of a global agent; answers as
        `configuration` does, after the change."""
        target, agent = await self._global_for(principal, agent_id, tenant)
        version = agent.version if expected_version is None else expected_version
        updated = await self.domain.agents.update(
            agent_id, changes, expected_version=version, actor=principal.subject, tenant=target
        )
        return target, updated, await tenant_configuration(self.domain.db, agent_id, target)

    async def reset(
        self,
        principal: Principal,
        agent_id: int,
        *,
        tenant: str | None,
        expected_version: int | None,
    ) -> tuple[str, Agent]:
        """Drop the tenant's configuration: it runs the global agent as defined again.
        Answers the tenant and the agent as it now runs it."""
        target, agent = await self._global_for(principal, agent_id, tenant)
        version = agent.version if expected_version is None else expected_version
        reset = await self.domain.agents.reset(
            agent_id, tenant=target, expected_version=version, actor=principal.subject
        )
        return target, reset
