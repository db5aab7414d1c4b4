"""Reading one tenant's configuration of a global agent (seed 004's `ai_agent_configurations`).

`AgentRegistry.update` writes a tenant's configuration and `AgentRegistry.reset`
drops it; both fold it into the `Agent` they answer, so the stored overrides
themselves are not visible there. `tenant_configuration` answers them as stored:
the fields the tenant set (whatever the global agent says today), who set them last
and when. A reset configuration (inactive row) is no configuration: None.
Visibility of the agent is the caller's to check first (`AgentRegistry.get`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentgraph.domain.db import Database
from agentgraph.domain.timestamps import as_datetime

__all__ = ["AgentConfiguration", "tenant_configuration"]


@dataclass(frozen=True)
class AgentConfiguration:
    """The fields `tenant` overrides on global agent `agent_id`, as stored."""

    agent_id: int
    tenant: str
    overrides: dict[str, Any]
    updated_by: str
    updated_at: datetime


async def tenant_configuration(
    db: Database, agent_id: int, tenant: str
) -> AgentConfiguration | None:
    """`tenant`'s live configuration of agent `agent_id`, or None when it has none."""
    row = await db.fetchone(
        "SELECT configuration, updated_by, updated_at FROM agent_configurations "
        "WHERE agent_id = ? AND tenant = ? AND is_active = ?",
        [agent_id, tenant, True],
    )
    if row is None:
        return None
    return AgentConfiguration(
        agent_id=agent_id,
        tenant=tenant,
        overrides=json.loads(row["configuration"]),
        updated_by=row["updated_by"],
        updated_at=as_datetime(row["updated_at"]),
    )
