"""SaaS account tools: customer, subscription and invoice lookups by email.

Answers follow the support seed's wording exactly ("No customer found with email: X",
"No subscriptions found for X") so downstream prompts and tests can rely on them.
A customer may look up only the account linked to them (`Context.customer_email`);
staff consoles (`Context.staff`) may look up any customer of the tenant. The email a
model writes is never trusted beyond that.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain import DomainError
from agentgraph.tools.services import identity, services_of

__all__ = ["get_customer_info", "get_subscription_details", "list_invoices"]


def _amount(minor: int, currency: str) -> str:
    if currency.upper() == "RWF":
        return f"{minor:,} RWF"
    return f"{minor / 100:,.2f} {currency.upper()}"


def _target_email(runtime: ToolRuntime[Context, Any], requested: str | None) -> str:
    """The email a lookup may use, or a refusal raised as `DomainError`.

    Customers see only the account linked to them (`Context.customer_email`); staff
    consoles (`Context.staff`) may name any customer of the tenant.
    """
    ctx = runtime.context
    if not isinstance(ctx, Context):
        raise DomainError("I cannot tell who is asking, so I cannot look up an account.")
    own = (ctx.customer_email or "").strip().lower() or None
    asked = (requested or "").strip().lower() or None
    if ctx.staff:
        if asked or own:
            return str(asked or own)
        raise DomainError("Which customer? Tell me their email address.")
    if own is None:
        raise DomainError(
            "I can only show the account linked to you, and no email is linked to this "
            "conversation. Please contact us from your registered account."
        )
    if asked is not None and asked != own:
        raise DomainError("For privacy I can only show the account registered to you.")
    return own


_EMAIL = Field(description="The customer's email address; leave empty for the caller's own.")


@tool
async def get_customer_info(
    runtime: ToolRuntime[Context, Any],
    customer_email: Annotated[str | None, _EMAIL] = None,
) -> str:
    """Look up a customer account by email."""
    domain = services_of(runtime).domain
    tenant, _ = identity(runtime)
    try:
        email = _target_email(runtime, customer_email)
        c = await domain.accounts.customer_by_email(tenant, email)
    except DomainError as exc:
        return exc.user_message
    company = f", {c.company}" if c.company else ""
    return f"Customer {c.name} <{c.email}>{company}, customer since {c.created_at:%Y-%m-%d}."


@tool
async def get_subscription_details(
    runtime: ToolRuntime[Context, Any],
    customer_email: Annotated[str | None, _EMAIL] = None,
) -> str:
    """Show a customer's subscriptions, most recent first."""
    domain = services_of(runtime).domain
    tenant, _ = identity(runtime)
    try:
        email = _target_email(runtime, customer_email)
        c = await domain.accounts.customer_by_email(tenant, email)
        subs = await domain.accounts.subscriptions(tenant, email)
    except DomainError as exc:
        return exc.user_message
    if not subs:
        return f"No subscriptions found for {c.email}"
    lines = [f"Subscriptions for {c.email}:"]
    for s in subs[:3]:
        end = f", ends {s.end_date:%Y-%m-%d}" if s.end_date else ""
        lines.append(f"- {s.plan}: {s.status}, {_amount(s.amount, s.currency)}{end}")
    return "\n".join(lines)


@tool
async def list_invoices(
    runtime: ToolRuntime[Context, Any],
    customer_email: Annotated[str | None, _EMAIL] = None,
) -> str:
    """List a customer's invoices with status and due date."""
    domain = services_of(runtime).domain
    tenant, _ = identity(runtime)
    try:
        email = _target_email(runtime, customer_email)
        c = await domain.accounts.customer_by_email(tenant, email)
        invoices = await domain.accounts.invoices(tenant, email)
    except DomainError as exc:
        return exc.user_message
    if not invoices:
        return f"No invoices found for {c.email}"
    lines = [f"Invoices for {c.email}:"]
    for i in invoices[:10]:
        amount = _amount(i.amount, i.currency)
        lines.append(f"- {i.number}: {amount}, {i.status}, due {i.due_date:%Y-%m-%d}")
    return "\n".join(lines)
