"""Each tenant's WhatsApp template for human replies outside the 24-hour window.

Meta accepts free-form messages only within 24 hours of the customer's last message
(error 131047 otherwise); after that only a template the business had approved may
go out. `get(tenant)` answers the tenant's template (None: late replies are refused
with the reason), `set(...)` stores it (`PUT /api/v1/inbox/template`).
"""

from __future__ import annotations

import json

from agentgraph.clock import Clock
from agentgraph.domain.db import Database
from agentgraph.domain.inbox_records import InboxTemplate
from agentgraph.domain.profiles import check_tenant

__all__ = ["InboxTemplates"]


class InboxTemplates:
    """`domain.inbox_templates`: one late-reply template per tenant."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, tenant: str) -> InboxTemplate | None:
        """The tenant's late-reply template, or None when it has none."""
        row = await self._db.fetchone(
            "SELECT tenant, name, language, parameters FROM inbox_templates WHERE tenant = ?",
            [tenant],
        )
        if row is None:
            return None
        return InboxTemplate(
            row["tenant"], row["name"], row["language"], tuple(json.loads(row["parameters"]))
        )

    async def set(
        self, tenant: str, name: str, language: str, parameters: tuple[str, ...]
    ) -> InboxTemplate:
        """Store the tenant's late-reply template, replacing any earlier one."""
        check_tenant(tenant)
        await self._db.execute(
            "INSERT INTO inbox_templates (tenant, name, language, parameters, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET name = excluded.name, "
            "language = excluded.language, parameters = excluded.parameters, "
            "updated_at = excluded.updated_at",
            [tenant, name, language, json.dumps(list(parameters)), self._clock.now()],
        )
        return InboxTemplate(tenant, name, language, parameters)
