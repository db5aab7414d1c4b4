"""The human inbox from an operator's side: who they act as, and what they may list.

`inbox_actor(principal)` turns a signed-in operator or API key into the `InboxActor`
every inbox action takes: their tenant as scope, their subject as owner and author,
their email (or key name) as the name a 409 shows another agent, and whether they may
take back someone else's claim (admins). `InboxDesk.items(principal, ...)` lists the
items of the caller's tenant (every tenant's for a super admin); `assignee="me"`
means the caller. Conversation actions that send (reply, release) live in
`agentgraph.runtime.human`, which owns the delivery path.
"""

from __future__ import annotations

from agentgraph.domain import Domain
from agentgraph.domain.inbox_records import InboxActor, InboxItem
from agentgraph.operators.principal import ADMIN_ROLES, Principal, Role

__all__ = ["INBOX_ROLES", "InboxDesk", "inbox_actor"]

INBOX_ROLES: tuple[Role, ...] = ("super_admin", "tenant_admin", "agent")


def inbox_actor(principal: Principal) -> InboxActor:
    """The inbox identity of `principal`."""
    return InboxActor(
        scope=principal.scope,
        who=principal.subject,
        name=principal.email or principal.name or principal.subject,
        admin=principal.role in ADMIN_ROLES,
    )


class InboxDesk:
    """Lists a tenant's inbox for an operator."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    async def items(
        self,
        principal: Principal,
        *,
        status: str | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        limit: int = 50,
    ) -> list[InboxItem]:
        """The caller's tenant's items (see `HumanInbox.items`); `assignee="me"` is the
        caller, `none` the unclaimed."""
        if assignee == "me":
            assignee = principal.subject
        return await self.domain.human_inbox.items(
            principal.scope, status=status, priority=priority, assignee=assignee, limit=limit
        )
