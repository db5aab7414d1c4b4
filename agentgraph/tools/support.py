"""Support tools: help-article search, tickets, ticket status, escalation to a human.

`escalate_to_human` opens an urgent ticket and the tenant's human inbox item
(`domain.human_inbox`, reason and priority from the user's words) and returns a
`Command` that marks the conversation as escalated; from then on the assistant stays
silent in that thread until a human releases it (`agentgraph.runtime.human`). A
ticket the priority rules make urgent escalates the same way (source `tool`): an
outage, fraud or lost money goes straight to a person.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain import DomainError
from agentgraph.tools.formatting import local_time
from agentgraph.tools.services import identity, services_of, thread_id

__all__ = ["create_ticket", "escalate_to_human", "search_help_articles", "ticket_status"]

Priority = Literal["urgent", "high", "medium"]


@tool
async def search_help_articles(
    runtime: ToolRuntime[Context, Any],
    query: Annotated[str, Field(description="The user's question in their own words.")],
) -> str:
    """Search the help centre and return the best matching articles."""
    domain = services_of(runtime).domain
    tenant, _ = identity(runtime)
    articles = await domain.support.search_articles(tenant, query, limit=3)
    if not articles:
        return (
            "I found no help article for that. I can open a support ticket for you "
            "if you describe the problem."
        )
    best = articles[0]
    lines = [f"{best.title}: {best.body}"]
    others = [a.title for a in articles[1:]]
    if others:
        lines.append("Related: " + "; ".join(others))
    return "\n".join(lines)


@tool
async def create_ticket(
    runtime: ToolRuntime[Context, Any],
    subject: Annotated[str, Field(description="Short summary of the problem.")],
    description: str = Field(description="What happened, in the user's words."),
    priority: Annotated[
        Priority | None, Field(description="Leave empty to let the priority rules decide.")
    ] = None,
) -> str | Command[Any]:
    """Open a support ticket for the user. An urgent ticket also hands the conversation
    to a person."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    await domain.profiles.get_or_create(tenant, phone)
    try:
        ticket = await domain.support.create_ticket(
            tenant, phone, subject, description, priority=priority
        )
    except DomainError as exc:
        return exc.user_message
    text = (
        f"Ticket #{ticket.id} opened with {ticket.priority} priority. "
        f"We aim to respond by {local_time(ticket.due_at)}."
    )
    if ticket.priority != "urgent":
        return text
    reason = f"Urgent ticket #{ticket.id}: {ticket.subject}"
    await _open_item(runtime, reason, "tool", "urgent", ticket.id)
    return _escalated(runtime, reason, text, "create_ticket")


@tool
async def ticket_status(
    runtime: ToolRuntime[Context, Any],
    ticket_id: Annotated[int, Field(description="The ticket number.")],
) -> str:
    """Show the status of one of the user's tickets."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    try:
        ticket = await domain.support.get_ticket(tenant, phone, ticket_id)
    except DomainError as exc:
        return exc.user_message
    status = ticket.status.replace("_", " ")
    return (
        f"Ticket #{ticket.id} '{ticket.subject}' is {status} "
        f"({ticket.priority} priority, response due {local_time(ticket.due_at)})."
    )


@tool
async def escalate_to_human(
    runtime: ToolRuntime[Context, Any],
    reason: Annotated[str, Field(description="Why the user needs a person.")],
) -> Command[Any]:
    """Hand the conversation to a human agent. The assistant stops replying until released."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    await domain.profiles.get_or_create(tenant, phone)
    ticket = await domain.support.escalate(tenant, phone, thread_id(runtime), reason)
    await _open_item(runtime, reason, "user", None, ticket.id)
    text = (
        f"I have passed your conversation to a member of our team (ticket #{ticket.id}). "
        "They will reply here; I will stay quiet until they are done."
    )
    return _escalated(runtime, reason, text, "escalate_to_human")


async def _open_item(
    runtime: ToolRuntime[Context, Any],
    reason: str,
    source: str,
    priority: str | None,
    ticket_id: int,
) -> None:
    """The conversation's human inbox item (created unless it has an open one)."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    await domain.human_inbox.open(
        tenant,
        thread_id(runtime),
        channel=runtime.context.channel,
        phone=phone,
        reason=reason,
        source=source,
        priority=priority,
        ticket_id=ticket_id,
    )


def _escalated(
    runtime: ToolRuntime[Context, Any], reason: str, text: str, tool_name: str
) -> Command[Any]:
    """The update that hands the conversation to a person: the assistant goes quiet."""
    message = ToolMessage(text, tool_call_id=runtime.tool_call_id or "", name=tool_name)
    return Command(update={"escalated": True, "escalation_reason": reason, "messages": [message]})
