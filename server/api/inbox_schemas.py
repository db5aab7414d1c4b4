"""Bodies of the inbox and conversation routes (pydantic, at the HTTP edge).

Requests refuse unknown fields and bound every string; a reply's text is stripped
and must hold 1 to 4,096 characters (WhatsApp's text limit), or the answer is a 422
naming `text`. Responses show an inbox item without the customer's phone number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agentgraph.domain.inbox_records import InboxItem
from agentgraph.runtime.human import MAX_REPLY_CHARS, HumanReply

Status = Literal["waiting", "claimed", "released"]
Priority = Literal["urgent", "high", "medium"]
ReplyText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REPLY_CHARS)
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
TemplateParameter = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Item(BaseModel):
    """An escalated conversation as the inbox shows it."""

    id: int
    conversation_id: str = Field(description="The conversation's id (its thread id)")
    tenant: str
    channel: str
    reason: str
    source: Literal["user", "tool", "policy"] = Field(
        description="Who escalated: the user's request, a tool (urgent ticket) or a policy"
    )
    priority: Priority = Field(description="From the ticket priority rules")
    status: Status
    assignee: str | None = Field(description="Owner's subject (operator:<id> or key:<id>)")
    assignee_name: str | None = Field(description="Owner's email or key name")
    ticket_id: int | None
    waiting_since: datetime
    sla_due_at: datetime = Field(description="waiting_since + the priority's response target")
    sla_breached: bool = Field(description="Still waiting at or after sla_due_at")
    last_customer_message_at: datetime
    window_closes_at: datetime = Field(
        description="End of WhatsApp's 24-hour window: later replies go out as the template"
    )
    window_open: bool
    customer_messages: int
    human_messages: int
    claimed_at: datetime | None
    last_reply_at: datetime | None
    released_at: datetime | None
    release_note: str | None

    @classmethod
    def of(cls, item: InboxItem, now: datetime) -> Item:
        """The response body of `item` at `now`."""
        return cls.model_validate(item.as_json(now))


class ItemPage(BaseModel):
    """Inbox items, most pressing SLA first."""

    items: list[Item]


class ReplyCreate(_Request):
    """A person's reply to the customer."""

    text: ReplyText


class ReplyOut(BaseModel):
    """A stored reply and its delivery: `status` sent, dev (no Graph API client: kept in
    the dev outbox), failed (with Meta's error) or pending (being retried)."""

    message_id: int
    kind: Literal["text", "template"]
    status: str
    error_code: int | None
    error: str | None
    item: Item

    @classmethod
    def of(cls, reply: HumanReply, now: datetime) -> ReplyOut:
        """The response body of `reply`."""
        return cls(
            message_id=reply.message_id,
            kind="template" if reply.kind == "template" else "text",
            status=reply.status,
            error_code=reply.error_code,
            error=reply.error,
            item=Item.of(reply.item, now),
        )


class ReleaseCreate(_Request):
    """Hand the conversation back to the assistant, with a note it will read."""

    note: Note | None = None


class ReleaseOut(BaseModel):
    """The released item, and whether the customer was told (only inside their window)."""

    item: Item
    customer_notified: bool


class TemplateBody(_Request):
    """The approved WhatsApp template a late reply goes out as. `parameters` are the
    body's parameters in order; `{text}` in one stands for the reply."""

    name: TemplateName
    language: LanguageCode = Field(description="The template's language code, e.g. en_US")
    parameters: list[TemplateParameter] = Field(default_factory=lambda: ["{text}"], max_length=10)
