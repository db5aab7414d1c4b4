"""The human inbox's records and the errors its callers handle.

An `InboxItem` is one escalation of one conversation: who has it (`assignee`, an
operator's or key's subject such as `operator:3`, and `assignee_name`, the email or
key name the inbox shows), its priority and SLA due time, and when the customer last
wrote (`last_customer_at`), which opens WhatsApp's 24-hour customer-service window.
`as_json(now)` is how the operator API and the inbox feed show it; it never includes
the customer's phone number.

Errors: `ConversationNotFound` (no such conversation in the caller's tenant: a 404)
and `InboxConflict` (the conversation is in a state that refuses the request: a 409
whose message names why, with `why` a stable word: `not_escalated`, `claimed`,
`not_claimed`, `released`, `window_closed`, `channel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentgraph.domain.errors import DomainError

__all__ = [
    "SERVICE_WINDOW",
    "ConversationNotFound",
    "InboxActor",
    "InboxConflict",
    "InboxItem",
    "InboxMessage",
    "InboxTemplate",
]

# Meta accepts free-form messages only this long after the customer's last message.
SERVICE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class InboxActor:
    """Who acts on the inbox: `scope` (their tenant; None for a super admin), `who` (the
    subject recorded as owner and author, e.g. `operator:3`), `name` (how others see
    them: an email or key name) and `admin` (may take a claim back from anyone)."""

    scope: str | None
    who: str
    name: str
    admin: bool = False


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One escalated conversation (see the module docstring)."""

    id: int
    tenant: str
    thread_id: str
    channel: str
    phone: str
    phone_number_id: str | None
    reason: str
    source: str
    priority: str
    status: str
    assignee: str | None
    assignee_name: str | None
    ticket_id: int | None
    acknowledged: bool
    customer_messages: int
    human_messages: int
    created_at: datetime
    sla_due_at: datetime
    last_customer_at: datetime
    claimed_at: datetime | None
    last_reply_at: datetime | None
    released_at: datetime | None
    release_note: str | None

    @property
    def window_closes_at(self) -> datetime:
        """When free-form replies stop being accepted (24 h after the customer wrote)."""
        return self.last_customer_at + SERVICE_WINDOW

    def window_open(self, now: datetime) -> bool:
        """True while a free-form reply may still reach the customer."""
        return now < self.window_closes_at

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The item as the inbox shows it, with its window and SLA state at `now`."""
        return {
            "id": self.id,
            "conversation_id": self.thread_id,
            "tenant": self.tenant,
            "channel": self.channel,
            "reason": self.reason,
            "source": self.source,
            "priority": self.priority,
            "status": self.status,
            "assignee": self.assignee,
            "assignee_name": self.assignee_name,
            "ticket_id": self.ticket_id,
            "waiting_since": self.created_at.isoformat(),
            "sla_due_at": self.sla_due_at.isoformat(),
            "sla_breached": self.status == "waiting" and now >= self.sla_due_at,
            "last_customer_message_at": self.last_customer_at.isoformat(),
            "window_closes_at": self.window_closes_at.isoformat(),
            "window_open": self.window_open(now),
            "customer_messages": self.customer_messages,
            "human_messages": self.human_messages,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "last_reply_at": self.last_reply_at.isoformat() if self.last_reply_at else None,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "release_note": self.release_note,
        }


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A message said while an item was open: by the customer, or by a human (`operator`
    is their subject; `kind` is `text`, or `template` for a reply sent as a template)."""

    id: int
    item_id: int
    author: str
    operator: str | None
    kind: str
    text: str
    outbox_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InboxTemplate:
    """A tenant's approved WhatsApp template for late replies: its name, language code
    and body parameters, where `{text}` stands for the human's reply."""

    tenant: str
    name: str
    language: str
    parameters: tuple[str, ...]

    def payload(self, text: str) -> dict[str, Any]:
        """The Cloud API `template` message body carrying `text` (minus `to`)."""
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if self.parameters:
            values = [p.replace("{text}", text) for p in self.parameters]
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
            ]
        return {"type": "template", "template": template}


class ConversationNotFound(DomainError):
    """No such conversation in the caller's tenant (another tenant's answers the same)."""

    code = "conversation_not_found"

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        super().__init__("No such conversation.")


class InboxConflict(DomainError):
    """The conversation's state refuses the request; `why` says which state."""

    code = "inbox_conflict"

    def __init__(self, why: str, message: str) -> None:
        self.why = why
        super().__init__(message)
