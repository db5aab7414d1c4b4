"""The assistant's cached, versioned view of the agent registry.

`domain.agent_view.tenant_agents(tenant)` answers the agents a tenant runs (one per
agent type: the tenant's own before a global one, an offered one before an
inactive one, then the oldest), or None when the registry holds nothing for the
tenant (the assistant then runs its built-in agents). Snapshots are cached per
tenant and dropped when the registry's change token moves. The token is checked
per call with `check=True` (the assistant does it once per turn) and costs no
database read when nothing changed:

- writes through this process's `Domain` bump an in-process counter at once;
- with Redis (`ChangeSignal.share`), every write also `INCR`s
  `{prefix}:agents:version` and each check is one `GET`: another process's change
  shows on the next turn;
- the registry's own counter row is read at most once per `refresh_seconds`, which
  catches writers that have no Redis (an `agentgraph agents` command on a SQLite
  deployment) and Redis outages.

Why a version GET and not pub/sub: a GET cannot miss a message while a subscriber
reconnects, needs no background task, and costs one round trip per turn.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from agentgraph.domain.agent_records import Agent
from agentgraph.domain.agents import AgentRegistry

__all__ = ["AgentView", "ChangeSignal", "TenantAgents"]

log = logging.getLogger(__name__)

DEFAULT_REFRESH_SECONDS = 5.0


@dataclass(frozen=True, eq=False)
class TenantAgents:
    """The agents one tenant runs, by agent type (archived agents never appear)."""

    tenant: str
    by_type: dict[str, Agent]

    def offered(self, agent_type: str) -> Agent | None:
        """The agent of `agent_type` if it takes conversations (active or maintenance)."""
        agent = self.by_type.get(agent_type)
        return agent if agent is not None and agent.status != "inactive" else None


class ChangeSignal:
    """Counts registry changes in this process and, once `share`d, across processes."""

    def __init__(self) -> None:
        self.local = 0
        self._redis: Any = None
        self._key = ""
        self._failing = False

    def share(self, redis: Any, key: str) -> None:
        """Announce and read changes through the Redis `key` (a `redis.asyncio` client)."""
        self._redis, self._key = redis, key

    async def changed(self) -> None:
        """A write committed: bump the local counter and the shared one."""
        self.local += 1
        if self._redis is not None:
            try:
                await self._redis.incr(self._key)
            except Exception as exc:  # a Redis outage must not fail a committed write
                log.warning("registry change not announced on Redis: %s", type(exc).__name__)

    async def shared(self) -> str | None:
        """The shared counter (None without Redis, or while Redis fails)."""
        if self._redis is None:
            return None
        try:
            value = await self._redis.get(self._key)
        except Exception as exc:
            if not self._failing:
                log.warning("registry version unreadable on Redis: %s", type(exc).__name__)
            self._failing = True
            return None
        self._failing = False
        return None if value is None else str(value)


@dataclass
class ViewStats:
    """How often the view went to the database (tests and benchmarks read it)."""

    loads: int = 0
    version_reads: int = 0


@dataclass
class AgentView:
    """Per-tenant snapshots of the registry, refreshed when its change token moves."""

    registry: AgentRegistry
    signal: ChangeSignal
    refresh_seconds: float = DEFAULT_REFRESH_SECONDS
    stats: ViewStats = field(default_factory=ViewStats)
    _token: tuple[int, str | None, int] | None = None
    _polled_at: float = float("-inf")
    _db_version: int = 0
    _cache: dict[str, TenantAgents | None] = field(default_factory=dict)

    async def _current_token(self) -> tuple[int, str | None, int]:
        now = time.monotonic()
        if now - self._polled_at >= self.refresh_seconds:
            self._db_version = await self.registry.version()
            self._polled_at = now
            self.stats.version_reads += 1
        return (self.signal.local, await self.signal.shared(), self._db_version)

    async def tenant_agents(self, tenant: str, *, check: bool = True) -> TenantAgents | None:
        """The tenant's agents (None: nothing registered for it); `check=False` trusts the
        cache without looking at the change token (later steps of the same turn)."""
        if check or self._token is None:
            token = await self._current_token()
            if token != self._token:
                self._cache.clear()
                self._token = token
        if tenant in self._cache:
            return self._cache[tenant]
        token = self._token
        snapshot = await self._load(tenant)
        # A check that moved the token while this load ran may have read newer rows.
        if token == self._token:
            self._cache[tenant] = snapshot
        return snapshot

    async def _load(self, tenant: str) -> TenantAgents | None:
        self.stats.loads += 1
        if not await self.registry.registered(tenant):
            return None
        ranked = sorted(
            await self.registry.all(tenant),
            key=lambda a: (a.status == "inactive", a.tenant is None, a.id),
        )
        by_type: dict[str, Agent] = {}
        for agent in ranked:
            by_type.setdefault(agent.agent_type, agent)
        return TenantAgents(tenant, by_type)
