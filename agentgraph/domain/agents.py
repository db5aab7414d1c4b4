"""The agent registry: which agents each tenant runs, with their prompts, models and tools.

`domain.agents` stores agents per seed 004's `ai_agents`: owned by a tenant, or global
(`tenant=None`, offered to every tenant) with per-tenant configurations (seed 004's
`ai_agent_configurations`) that override a global agent's editable fields for one
tenant. Every call takes the caller's tenant (None: the global scope, a super
admin's); an agent of another tenant is `AgentNotFound`, never a different error.

Writes check their fields (`agent_records.check_fields`), take the version the
caller read (`AgentVersionConflict` when it is stale: optimistic concurrency),
append one audit entry (who, when, before/after) in the same transaction, bump the
registry's change counter and then tell `signal` (so cached views in this process
and, with Redis, in every process refresh on their next turn). Deleting archives:
the agent stops running and frees its name, its history stays readable, and
conversations it was serving go back to triage on their next turn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from agentgraph.clock import Clock
from agentgraph.domain.agent_errors import (
    AgentNotFound,
    AgentVersionConflict,
    DuplicateAgentName,
)
from agentgraph.domain.agent_records import (
    AGENT_COLUMNS,
    EDITABLE_FIELDS,
    OVERRIDABLE_FIELDS,
    Agent,
    AgentChange,
    ModelConfig,
    RegistryRules,
    agent_from_row,
    check_agent,
    check_fields,
    stored_value,
)
from agentgraph.domain.db import ConstraintViolation, Database, Executor, Row, is_row_id
from agentgraph.domain.profiles import check_tenant
from agentgraph.domain.timestamps import as_datetime

__all__ = ["AgentRegistry", "ChangeListener"]

GLOBAL = ""


class ChangeListener(Protocol):
    """Told after every committed registry write (see `agentgraph.domain.agent_view`)."""

    async def changed(self) -> None:
        """React to a change (drop caches, tell other processes)."""


class AgentRegistry:
    """`domain.agents`: registered agents, tenant configurations and their history.

    `rules` (tool names, allowed models) come from whoever opens the domain
    (`agentgraph.persistence.open_domain`); writes without them raise RuntimeError."""

    def __init__(self, db: Database, clock: Clock, rules: RegistryRules | None = None) -> None:
        self._db = db
        self._clock = clock
        self.rules = rules
        self.listeners: list[ChangeListener] = []

    def _rules(self) -> RegistryRules:
        if self.rules is None:
            raise RuntimeError(
                "this Domain has no registry rules: open it with "
                "agentgraph.persistence.open_domain (which knows the tool catalogue)"
            )
        return self.rules

    async def _changed(self) -> None:
        for listener in self.listeners:
            await listener.changed()

    # Reads -------------------------------------------------------------------------

    async def _row(self, ex: Executor, agent_id: int, tenant: str | None, lock: bool) -> Row:
        if not is_row_id(agent_id):
            raise AgentNotFound(agent_id)
        sql = f"SELECT {AGENT_COLUMNS} FROM agents WHERE id = ? AND archived_at IS NULL"
        row = await ex.fetchone(sql + (" FOR UPDATE" if lock else ""), [agent_id])
        if row is None or (tenant is not None and row["owner"] not in (tenant, GLOBAL)):
            raise AgentNotFound(agent_id)
        return row

    async def _config(self, ex: Executor, agent_id: int, tenant: str | None) -> Row | None:
        if tenant is None:
            return None
        return await ex.fetchone(
            "SELECT tenant, configuration, is_active, version, updated_at "
            "FROM agent_configurations WHERE agent_id = ? AND tenant = ?",
            [agent_id, tenant],
        )

    async def get(self, agent_id: int, *, tenant: str | None = None) -> Agent:
        """The agent as `tenant` sees it (its configuration applied); `AgentNotFound`
        for an archived agent or another tenant's."""
        row = await self._row(self._db, agent_id, tenant, lock=False)
        config = await self._config(self._db, agent_id, tenant)
        return agent_from_row(row, config if config and config["is_active"] else None)

    async def all(self, tenant: str | None = None) -> list[Agent]:
        """Live agents `tenant` sees: its own and the global ones (configured for it),
        by id. `tenant=None`: global agents only."""
        rows = await self._db.fetchall(
            f"SELECT {AGENT_COLUMNS} FROM agents WHERE archived_at IS NULL AND owner IN (?, ?) "
            "ORDER BY id",
            [GLOBAL, tenant or GLOBAL],
        )
        configs: dict[int, Row] = {}
        if tenant is not None:
            for config in await self._db.fetchall(
                "SELECT agent_id, tenant, configuration, is_active, version, updated_at "
                "FROM agent_configurations WHERE tenant = ? AND is_active = ?",
                [tenant, True],
            ):
                configs[int(config["agent_id"])] = config
        return [agent_from_row(row, configs.get(int(row["id"]))) for row in rows]

    async def registered(self, tenant: str) -> bool:
        """True once the registry holds any agent for `tenant` (its own or global, live or
        archived): the assistant then runs exactly what the registry says."""
        row = await self._db.fetchone(
            "SELECT id FROM agents WHERE owner IN (?, ?) LIMIT 1", [GLOBAL, tenant]
        )
        return row is not None

    async def version(self) -> int:
        """The registry's change counter (one per committed write, any tenant)."""
        value = await self._db.fetchval("SELECT version FROM agent_registry_version WHERE id = 1")
        return int(value or 0)

    async def history(self, agent_id: int, *, tenant: str | None = None) -> list[AgentChange]:
        """Every audited change of the agent `tenant` may see, oldest first: the agent's
        own changes and `tenant`'s configuration changes (all of them for `tenant=None`)."""
        row = await self._db.fetchone("SELECT owner FROM agents WHERE id = ?", [agent_id])
        if row is None or (tenant is not None and row["owner"] not in (tenant, GLOBAL)):
            raise AgentNotFound(agent_id)
        sql = (
            "SELECT id, agent_id, tenant, action, actor, changed_at, version, before_json, "
            "after_json FROM agent_changes WHERE agent_id = ?"
        )
        params: list[Any] = [agent_id]
        if tenant is not None:
            sql += " AND tenant IN (?, ?)"
            params += [row["owner"], tenant]
        rows = await self._db.fetchall(sql + " ORDER BY id", params)
        return [
            AgentChange(
                id=int(r["id"]),
                agent_id=int(r["agent_id"]),
                tenant=r["tenant"],
                action=r["action"],
                actor=r["actor"],
                changed_at=as_datetime(r["changed_at"]),
                version=int(r["version"]),
                before=json.loads(r["before_json"]) if r["before_json"] else None,
                after=json.loads(r["after_json"]) if r["after_json"] else None,
            )
            for r in rows
        ]

    # Writes ------------------------------------------------------------------------

    async def _audit(
        self, tx: Executor, agent: int, scope: str, action: str, actor: str, version: int,
        before: Agent | None, after: Agent | None,
    ) -> None:  # fmt: skip
        await tx.execute(
            "INSERT INTO agent_changes (agent_id, tenant, action, actor, changed_at, version, "
            "before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                agent, scope, action, actor, self._clock.now(), version,
                json.dumps(before.as_json(), sort_keys=True) if before else None,
                json.dumps(after.as_json(), sort_keys=True) if after else None,
            ],
        )  # fmt: skip
        await tx.execute("UPDATE agent_registry_version SET version = version + 1 WHERE id = 1")

    async def create(
        self,
        tenant: str | None,
        *,
        name: str,
        agent_type: str,
        actor: str,
        description: str = "",
        capabilities: list[str] | tuple[str, ...] = (),
        system_prompt: str | None = None,
        model_config: ModelConfig | Mapping[str, Any] | None = None,
        tools: list[str] | tuple[str, ...] = (),
        status: str = "active",
        maintenance_message: str | None = None,
    ) -> Agent:
        """Register an agent for `tenant` (None: global) at version 1; raises
        `DuplicateAgentName` and the field errors of `check_fields`."""
        if tenant is not None:
            check_tenant(tenant)
        fields = check_fields(
            {
                "name": name, "agent_type": agent_type, "description": description,
                "capabilities": list(capabilities), "system_prompt": system_prompt,
                "model_config": model_config or {}, "tools": list(tools), "status": status,
                "maintenance_message": maintenance_message,
            },
            self._rules(),
        )  # fmt: skip
        check_agent(fields)
        now = self._clock.now()
        columns = sorted(fields)
        try:
            async with self._db.transaction() as tx:
                row = await tx.fetchone(
                    f"INSERT INTO agents (owner, name_key, created_by, created_at, updated_at, "
                    f"version, {', '.join(columns)}) VALUES (?, ?, ?, ?, ?, 1, "
                    f"{', '.join('?' for _ in columns)}) RETURNING {AGENT_COLUMNS}",
                    [tenant or GLOBAL, fields["name"].casefold(), actor, now, now]
                    + [stored_value(fields[c]) for c in columns],
                )
                assert row is not None
                agent = agent_from_row(row)
                await self._audit(tx, agent.id, tenant or GLOBAL, "create", actor, 1, None, agent)
        except ConstraintViolation as exc:
            if exc.kind == "unique":
                raise DuplicateAgentName(fields["name"]) from exc
            raise
        await self._changed()
        return agent

    async def update(
        self,
        agent_id: int,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        actor: str,
        tenant: str | None = None,
    ) -> Agent:
        """Apply `changes` (field -> value) if the agent is still at `expected_version`.

        A tenant changing a global agent writes that tenant's configuration instead
        (only `OVERRIDABLE_FIELDS`); everything else changes the agent itself."""
        rules = self._rules()
        try:
            async with self._db.transaction() as tx:
                row = await self._row(tx, agent_id, tenant, lock=True)
                overriding = tenant is not None and row["owner"] == GLOBAL
                allowed = OVERRIDABLE_FIELDS if overriding else EDITABLE_FIELDS
                fields = check_fields(changes, rules, allowed)
                config = await self._config(tx, agent_id, tenant) if overriding else None
                live = config if config and config["is_active"] else None
                before = agent_from_row(row, live)
                if before.version != expected_version:
                    raise AgentVersionConflict(agent_id, expected_version, before.version)
                merged = {**before.as_json(), **fields}
                check_agent(merged)
                if overriding:
                    after = await self._write_config(tx, row, tenant or "", config, fields, actor)
                else:
                    after = await self._writeagent_from_row(tx, row, fields, actor)
                scope = tenant if overriding and tenant else row["owner"]
                await self._audit(
                    tx, agent_id, scope, "update", actor, after.version, before, after
                )
        except ConstraintViolation as exc:
            if exc.kind == "unique":
                raise DuplicateAgentName(str(changes.get("name"))) from exc
            raise
        await self._changed()
        return after

    async def _writeagent_from_row(
        self, tx: Executor, row: Row, fields: Mapping[str, Any], actor: str
    ) -> Agent:
        columns = sorted(fields)
        assignments = "".join(f", {c} = ?" for c in columns)
        params = [stored_value(fields[c]) for c in columns]
        if "name" in fields:
            assignments += ", name_key = ?"
            params.append(fields["name"].casefold())
        updated = await tx.fetchone(
            f"UPDATE agents SET version = version + 1, updated_at = ?{assignments} "
            f"WHERE id = ? RETURNING {AGENT_COLUMNS}",
            [self._clock.now(), *params, row["id"]],
        )
        assert updated is not None
        return agent_from_row(updated)

    async def _write_config(
        self,
        tx: Executor,
        row: Row,
        tenant: str,
        config: Row | None,
        fields: Mapping[str, Any],
        actor: str,
    ) -> Agent:
        current = json.loads(config["configuration"]) if config and config["is_active"] else {}
        merged = json.dumps({**current, **fields}, sort_keys=True)
        saved = await tx.fetchone(
            "INSERT INTO agent_configurations (agent_id, tenant, configuration, is_active, "
            "version, updated_by, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT (agent_id, tenant) DO UPDATE SET configuration = excluded.configuration, "
            "is_active = excluded.is_active, version = agent_configurations.version + 1, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at "
            "RETURNING tenant, configuration, is_active, version, updated_at",
            [row["id"], tenant, merged, True, actor, self._clock.now()],
        )
        return agent_from_row(row, saved)

    async def set_status(
        self,
        agent_id: int,
        status: str,
        *,
        actor: str,
        message: str | None = None,
        expected_version: int | None = None,
        tenant: str | None = None,
    ) -> Agent:
        """Activate, deactivate or put the agent in maintenance (`message`: what users
        are told meanwhile). Without `expected_version` the current one is used: a
        status switch is safe to apply over any other edit."""
        if expected_version is None:
            expected_version = (await self.get(agent_id, tenant=tenant)).version
        changes: dict[str, Any] = {"status": status}
        if message is not None or status == "maintenance":
            changes["maintenance_message"] = message
        return await self.update(
            agent_id, changes, expected_version=expected_version, actor=actor, tenant=tenant
        )

    async def reset(
        self, agent_id: int, *, tenant: str, expected_version: int, actor: str
    ) -> Agent:
        """Drop `tenant`'s configuration of a global agent: it runs as defined again."""
        async with self._db.transaction() as tx:
            row = await self._row(tx, agent_id, tenant, lock=True)
            config = await self._config(tx, agent_id, tenant)
            live = config if config and config["is_active"] else None
            before = agent_from_row(row, live)
            if before.version != expected_version:
                raise AgentVersionConflict(agent_id, expected_version, before.version)
            if live is None:
                return before
            await tx.execute(
                "UPDATE agent_configurations SET is_active = ?, configuration = ?, "
                "version = version + 1, updated_by = ?, updated_at = ? "
                "WHERE agent_id = ? AND tenant = ?",
                [False, "{}", actor, self._clock.now(), agent_id, tenant],
            )
            after = agent_from_row(row)
            await self._audit(tx, agent_id, tenant, "reset", actor, after.version, before, after)
        await self._changed()
        return after

    async def delete(
        self, agent_id: int, *, expected_version: int, actor: str, tenant: str | None = None
    ) -> Agent:
        """Archive the agent (a tenant may archive only its own agents; for a global one
        it sets its status to inactive for itself instead). Returns the archived agent."""
        async with self._db.transaction() as tx:
            row = await self._row(tx, agent_id, tenant, lock=True)
            if tenant is not None and row["owner"] == GLOBAL:
                archived = None
            else:
                before = agent_from_row(row)
                if before.version != expected_version:
                    raise AgentVersionConflict(agent_id, expected_version, before.version)
                updated = await tx.fetchone(
                    "UPDATE agents SET archived_at = ?, version = version + 1, updated_at = ? "
                    f"WHERE id = ? RETURNING {AGENT_COLUMNS}",
                    [self._clock.now(), self._clock.now(), agent_id],
                )
                assert updated is not None
                archived = agent_from_row(updated)
                await self._audit(
                    tx, agent_id, row["owner"], "delete", actor, archived.version, before, None
                )
        if archived is None:
            return await self.set_status(
                agent_id, "inactive", actor=actor, expected_version=expected_version, tenant=tenant
            )
        await self._changed()
        return archived
