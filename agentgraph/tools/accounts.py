"""SaaS account tools: customer, subscription and invoice lookups by email.

Answers follow the support seed's wording exactly ("No customer found with email: X",
"No subscriptions found for X") so downstream prompts and tests can rely on them.
Emails are normalised (trimmed, lower-cased) by the domain layer.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.tools import BaseTool, tool
from langgraph.prebuilt import ToolRuntime
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain import Domain, DomainError
from agentgraph.tools.common import identity


def _amount(minor: int, currency: str) -> str:
    if currency.upper() == "RWF":
        return f"{minor:,} RWF"
    return f"{minor / 100:,.2f} {currency.upper()}"


def build_account_tools(domain: Domain) -> list[BaseTool]:
    """Lookups in the tenant's customer records."""

    @tool
    async def get_customer_info(
        runtime: ToolRuntime[Context, Any],
        customer_email: Annotated[str, Field(description="The customer's email address.")],
    ) -> str:
        """Look up a customer account by email."""
        tenant, _ = identity(runtime)
        try:
            c = await domain.accounts.customer_by_email(tenant, customer_email)
        except DomainError as exc:
            return exc.user_message
        company = f", {c.company}" if getattr(c, "company", None) else ""
        return f"Customer {c.name} <{c.email}>{company}, customer since {c.created_at:%Y-%m-%d}."

    @tool
    async def get_subscription_details(
        runtime: ToolRuntime[Context, Any],
        customer_email: Annotated[str, Field(description="The customer's email address.")],
    ) -> str:
        """Show a customer's subscriptions, most recent first."""
        tenant, _ = identity(runtime)
        try:
            c = await domain.accounts.customer_by_email(tenant, customer_email)
            subs = await domain.accounts.subscriptions(tenant, customer_email)
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
        customer_email: Annotated[str, Field(description="The customer's email address.")],
    ) -> str:
        """List a customer's invoices with status and due date."""
        tenant, _ = identity(runtime)
        try:
            c = await domain.accounts.customer_by_email(tenant, customer_email)
            invoices = await domain.accounts.invoices(tenant, customer_email)
        except DomainError as exc:
            return exc.user_message
        if not invoices:
            return f"No invoices found for {c.email}"
        lines = [f"Invoices for {c.email}:"]
        for i in invoices[:10]:
            amount = _amount(i.amount, i.currency)
            lines.append(f"- {i.number}: {amount}, {i.status}, due {i.due_date:%Y-%m-%d}")
        return "\n".join(lines)

    return [get_customer_info, get_subscription_details, list_invoices]
