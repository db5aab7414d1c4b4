"""The agents agentgraph ships: the demo tenants' registry entries and the built-in set.

`AGENT_TEMPLATES` describes today's four assistant agents (type, description,
capabilities, tools). `seed_agents(domain)` registers, for each demo tenant, the
agents it runs (`TENANT_AGENTS`: easymo runs all four; acme, a SaaS business, runs
triage and a support agent for accounts, subscriptions, invoices, help and
tickets), named and described with the tenant's business name; an agent whose name
is already registered is left as it is, so seeding twice changes nothing.
`builtin_agents(tenant)` is what a tenant with nothing in the registry runs: all
four, active, with the shipped prompts.

Capabilities are ids the offline model's menu knows (`prompts/offline_replies.json`,
`menu_lines`); an LLM reads the descriptions instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from agentgraph.domain.agent_errors import DuplicateAgentName
from agentgraph.domain.agent_records import Agent, ModelConfig
from agentgraph.domain.agent_view import TenantAgents
from agentgraph.domain.backend import Domain
from agentgraph.domain.seed_data import ACME, EASYMO, TENANTS

__all__ = ["AGENT_TEMPLATES", "TENANT_AGENTS", "AgentTemplate", "builtin_agents", "seed_agents"]

SEED_ACTOR = "seed"
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
COMMON_TOOLS = ("get_user_profile", "update_preferences", "escalate_to_human")
SUPPORT_TOOLS = (
    "search_help_articles", "create_ticket", "ticket_status", "get_customer_info",
    "get_subscription_details", "list_invoices", *COMMON_TOOLS,
)  # fmt: skip


@dataclass(frozen=True)
class AgentTemplate:
    """One shipped agent; `{business}` in the description is the tenant's name."""

    agent_type: str
    description: str
    capabilities: tuple[str, ...]
    tools: tuple[str, ...]


AGENT_TEMPLATES: dict[str, AgentTemplate] = {
    t.agent_type: t
    for t in (
        AgentTemplate(
            "triage",
            "Front desk of {business}: greets customers, shows the menu and routes each "
            "request to the right specialist.",
            (),
            (),
        ),
        AgentTemplate(
            "booking",
            "Bus trips of {business}: searches trips and seats, books, lists and cancels "
            "bookings (cancelling asks for a yes).",
            ("trips", "bookings"),
            (
                "search_trips",
                "check_availability",
                "create_booking",
                "cancel_booking",
                "list_bookings",
                "check_balance",
                *COMMON_TOOLS,
            ),
        ),
        AgentTemplate(
            "payment",
            "The {business} wallet: balance, transaction history, and money transfers "
            "after an explicit yes.",
            ("balance", "transfer"),
            ("check_balance", "transaction_history", "transfer_money", *COMMON_TOOLS),
        ),
        AgentTemplate(
            "support",
            "Customer support of {business}: help articles, support tickets, account, "
            "subscription and invoice lookups, and a human when asked.",
            ("help", "tickets", "accounts", "human"),
            SUPPORT_TOOLS,
        ),
    )
}

TENANT_AGENTS: dict[str, tuple[str, ...]] = {
    EASYMO: ("triage", "booking", "payment", "support"),
    ACME: ("triage", "support"),
}
# What acme's support agent says it does: its business has no wallet and no buses.
_ACME_SUPPORT = (
    "Customer support of {business}: accounts, subscriptions, invoices, help articles "
    "and support tickets, and a human when asked."
)


def agent_name(business: str, agent_type: str) -> str:
    """The demo name of a tenant's agent, e.g. `Acme Cloud support`."""
    return f"{business} {agent_type}"


async def seed_agents(domain: Domain) -> int:
    """Register the demo tenants' agents; returns how many this call created. A domain
    opened without registry rules (`Domain.sqlite(...)` directly, not through
    `agentgraph.persistence`) gets none: its tenants run the built-in agents."""
    if domain.agents.rules is None:
        return 0
    created = 0
    for tenant, types in TENANT_AGENTS.items():
        business = TENANTS[tenant]
        for agent_type in types:
            template = AGENT_TEMPLATES[agent_type]
            description = template.description
            if tenant == ACME and agent_type == "support":
                description = _ACME_SUPPORT
            try:
                await domain.agents.create(
                    tenant,
                    name=agent_name(business, agent_type),
                    agent_type=agent_type,
                    actor=SEED_ACTOR,
                    description=description.format(business=business),
                    capabilities=template.capabilities,
                    tools=template.tools,
                )
            except DuplicateAgentName:
                continue
            created += 1
    return created


def builtin_agents(tenant: str, business: str | None = None) -> TenantAgents:
    """The four shipped agents, active, for a tenant the registry knows nothing about."""
    by_type = {}
    for agent_type, t in AGENT_TEMPLATES.items():
        by_type[agent_type] = Agent(
            id=0, tenant=tenant, name=agent_type,
            description=t.description.format(business=business or tenant),
            agent_type=agent_type, capabilities=t.capabilities, system_prompt=None,
            model=ModelConfig(), tools=t.tools, status="active", maintenance_message=None,
            created_by="agentgraph", created_at=_EPOCH, updated_at=_EPOCH, version=0,
        )  # fmt: skip
    return TenantAgents(tenant, by_type)
