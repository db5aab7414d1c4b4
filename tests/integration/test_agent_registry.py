"""The agent registry on SQLite and Postgres: CRUD, validation, versions, history, scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agentgraph.domain import (
    AgentNotFound,
    AgentVersionConflict,
    Domain,
    DuplicateAgentName,
    InvalidAgentConfig,
    ModelConfig,
    ModelNotAllowed,
    UnknownTool,
    seed_demo,
)
from agentgraph.persistence import open_domain


@pytest.fixture
async def domain(any_settings) -> AsyncIterator[Domain]:
    async with open_domain(any_settings) as opened:
        await opened.tenants.add("acme", "Acme Cloud")
        await opened.tenants.add("easymo", "easyMO Rwanda")
        yield opened


async def make_support(domain: Domain, tenant: str | None = "acme", name: str = "Helper"):
    return await domain.agents.create(
        tenant,
        name=name,
        agent_type="support",
        actor="ops@acme.test",
        description="Helps.",
        capabilities=["help", "tickets"],
        system_prompt="agent: support\nBe brief.",
        model_config={"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 300},
        tools=["search_help_articles", "create_ticket"],
    )


async def test_create_and_read_back_every_field(domain):
    created = await make_support(domain)
    got = await domain.agents.get(created.id, tenant="acme")
    assert got == created
    assert (got.tenant, got.name, got.agent_type, got.version, got.status) == (
        "acme",
        "Helper",
        "support",
        1,
        "active",
    )
    assert got.capabilities == ("help", "tickets")
    assert got.model == ModelConfig("gpt-4o-mini", 0.2, 300)
    assert got.tools == ("search_help_articles", "create_ticket")
    assert got.created_by == "ops@acme.test"
    assert [a.id for a in await domain.agents.all("acme")] == [created.id]
    assert await domain.agents.all("easymo") == []


async def test_duplicate_name_in_one_tenant_is_refused_but_another_tenant_may_use_it(domain):
    await make_support(domain)
    with pytest.raises(DuplicateAgentName) as info:
        await make_support(domain, name=" helper ")
    assert info.value.user_message == "An agent named 'helper' already exists."
    other = await make_support(domain, tenant="easymo")
    assert other.name == "Helper"


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("tools", ["transfer_money", "launch_rocket"], UnknownTool,
         "Unknown tool 'launch_rocket': choose tools from the tool catalogue."),
        ("tools", ["transfer_to_payment"], UnknownTool,
         "Unknown tool 'transfer_to_payment': choose tools from the tool catalogue."),
        ("model_config", {"model": "gpt-5-ultra"}, ModelNotAllowed, None),
        ("model_config", {"temperature": 2.5}, InvalidAgentConfig,
         "Invalid model_config.temperature: must be between 0 and 2"),
        ("model_config", {"max_tokens": 0}, InvalidAgentConfig,
         "Invalid model_config.max_tokens: must be between 1 and 4096"),
        ("model_config", {"max_tokens": 5000}, InvalidAgentConfig,
         "Invalid model_config.max_tokens: must be between 1 and 4096"),
        ("model_config", {"top_p": 1}, InvalidAgentConfig,
         "Invalid model_config: unknown setting 'top_p'"),
        ("status", "sleeping", InvalidAgentConfig,
         "Invalid status: must be one of active, inactive, maintenance"),
        ("status", "maintenance", InvalidAgentConfig,
         "Invalid maintenance_message: an agent in maintenance needs the message users get"),
        ("name", "  ", InvalidAgentConfig, "Invalid name: must not be empty"),
        ("agent_type", "Bad Type", InvalidAgentConfig, None),
        ("colour", "blue", InvalidAgentConfig,
         "Invalid colour: is not a field that can be set here"),
    ],
)  # fmt: skip
async def test_invalid_changes_are_refused_with_the_field_named(
    domain, field, value, error, message
):
    agent = await make_support(domain)
    with pytest.raises(error) as info:
        await domain.agents.update(
            agent.id, {field: value}, expected_version=1, actor="ops", tenant="acme"
        )
    if message is not None:
        assert info.value.user_message == message
    assert (await domain.agents.get(agent.id, tenant="acme")).version == 1


async def test_model_outside_the_allow_list_names_the_allowed_ones(domain, any_settings):
    with pytest.raises(ModelNotAllowed) as info:
        await domain.agents.create(
            "acme", name="X", agent_type="support", actor="ops", model_config={"model": "o9"}
        )
    assert info.value.model == "o9"
    assert info.value.allowed == sorted(any_settings.allowed_models)


async def test_triage_takes_no_tools(domain):
    with pytest.raises(InvalidAgentConfig) as info:
        await domain.agents.create(
            "acme", name="Desk", agent_type="triage", actor="ops", tools=["check_balance"]
        )
    assert info.value.field == "tools"


async def test_stale_version_raises_a_conflict_and_changes_nothing(domain):
    agent = await make_support(domain)
    first = await domain.agents.update(
        agent.id, {"description": "First."}, expected_version=1, actor="ann", tenant="acme"
    )
    assert first.version == 2
    with pytest.raises(AgentVersionConflict) as info:
        await domain.agents.update(
            agent.id, {"description": "Second."}, expected_version=1, actor="bob", tenant="acme"
        )
    assert (info.value.expected, info.value.current) == (1, 2)
    assert (await domain.agents.get(agent.id, tenant="acme")).description == "First."


async def test_history_records_who_when_before_and_after(domain):
    agent = await make_support(domain)
    await domain.agents.update(
        agent.id, {"tools": ["create_ticket"]}, expected_version=1, actor="ann", tenant="acme"
    )
    await domain.agents.set_status(
        agent.id, "maintenance", message="Back at noon.", actor="bob", tenant="acme"
    )
    history = await domain.agents.history(agent.id, tenant="acme")
    assert [(h.action, h.actor, h.version) for h in history] == [
        ("create", "ops@acme.test", 1),
        ("update", "ann", 2),
        ("update", "bob", 3),
    ]
    assert history[0].before is None
    assert history[0].after is not None and history[0].after["name"] == "Helper"
    assert history[1].before is not None and history[1].after is not None
    assert history[1].before["tools"] == ["search_help_articles", "create_ticket"]
    assert history[1].after["tools"] == ["create_ticket"]
    assert (history[2].after or {})["status"] == "maintenance"
    assert (history[2].after or {})["maintenance_message"] == "Back at noon."
    assert all(h.changed_at.tzinfo is not None for h in history)


async def test_another_tenants_agent_is_not_found(domain):
    agent = await make_support(domain, tenant="easymo")
    with pytest.raises(AgentNotFound):
        await domain.agents.get(agent.id, tenant="acme")
    with pytest.raises(AgentNotFound):
        await domain.agents.update(
            agent.id, {"description": "x"}, expected_version=1, actor="a", tenant="acme"
        )
    with pytest.raises(AgentNotFound):
        await domain.agents.history(agent.id, tenant="acme")
    with pytest.raises(AgentNotFound):
        await domain.agents.get(999_999)


async def test_tenant_configuration_overrides_a_global_agent_for_that_tenant_only(domain):
    agent = await make_support(domain, tenant=None, name="Global support")
    configured = await domain.agents.update(
        agent.id,
        {"tools": ["create_ticket"], "status": "maintenance", "maintenance_message": "Soon."},
        expected_version=1,
        actor="acme-admin",
        tenant="acme",
    )
    assert (configured.configured_for, configured.status, configured.tools) == (
        "acme",
        "maintenance",
        ("create_ticket",),
    )
    assert configured.version == 2
    easymo_view = await domain.agents.get(agent.id, tenant="easymo")
    assert (easymo_view.status, easymo_view.version) == ("active", 1)
    assert (await domain.agents.get(agent.id)).tools == ("search_help_articles", "create_ticket")
    with pytest.raises(InvalidAgentConfig) as info:
        await domain.agents.update(
            agent.id, {"name": "Mine"}, expected_version=2, actor="acme-admin", tenant="acme"
        )
    assert info.value.field == "name"
    reset = await domain.agents.reset(
        agent.id, tenant="acme", expected_version=2, actor="acme-admin"
    )
    assert (reset.status, reset.configured_for) == ("active", None)
    assert [(h.action, h.tenant) for h in await domain.agents.history(agent.id)] == [
        ("create", ""),
        ("update", "acme"),
        ("reset", "acme"),
    ]
    # easymo sees the global agent's own changes, never acme's configuration.
    assert [h.action for h in await domain.agents.history(agent.id, tenant="easymo")] == ["create"]


async def test_delete_archives_frees_the_name_and_keeps_the_history(domain):
    agent = await make_support(domain)
    archived = await domain.agents.delete(agent.id, expected_version=1, actor="ops", tenant="acme")
    assert archived.archived_at is not None
    with pytest.raises(AgentNotFound):
        await domain.agents.get(agent.id, tenant="acme")
    assert await domain.agents.all("acme") == []
    again = await make_support(domain)
    assert again.id != agent.id
    assert [h.action for h in await domain.agents.history(agent.id, tenant="acme")] == [
        "create",
        "delete",
    ]


async def test_a_tenant_deleting_a_global_agent_only_switches_it_off_for_itself(domain):
    agent = await make_support(domain, tenant=None, name="Global support")
    result = await domain.agents.delete(agent.id, expected_version=1, actor="a", tenant="acme")
    assert (result.status, result.configured_for) == ("inactive", "acme")
    assert (await domain.agents.get(agent.id, tenant="easymo")).status == "active"


async def test_writes_need_the_registry_rules():
    domain = await Domain.sqlite(":memory:")
    try:
        await domain.migrate()
        with pytest.raises(RuntimeError, match="open_domain"):
            await make_support(domain)
    finally:
        await domain.close()


async def test_seed_registers_each_tenants_agents_once(domain):
    created = await seed_demo(domain)
    assert created["agents"] == 6
    assert (await seed_demo(domain))["agents"] == 0
    easymo = await domain.agents.all("easymo")
    acme = await domain.agents.all("acme")
    assert [a.name for a in easymo] == [
        "easyMO Rwanda triage",
        "easyMO Rwanda booking",
        "easyMO Rwanda payment",
        "easyMO Rwanda support",
    ]
    assert [(a.name, a.agent_type) for a in acme] == [
        ("Acme Cloud triage", "triage"),
        ("Acme Cloud support", "support"),
    ]
    assert acme[0].description.startswith("Front desk of Acme Cloud:")
    assert acme[1].capabilities == ("help", "tickets", "accounts", "human")
    assert "transfer_money" not in acme[1].tools


async def test_view_reads_nothing_while_nothing_changes_and_sees_local_writes_at_once(domain):
    await seed_demo(domain)
    view = domain.agent_view
    view.refresh_seconds = 3600
    first = await view.tenant_agents("acme")
    loads = view.stats.loads
    for _ in range(5):
        assert await view.tenant_agents("acme") is first
    assert view.stats.loads == loads
    assert first is not None
    support = first.by_type["support"]
    await domain.agents.set_status(support.id, "inactive", actor="ops", tenant="acme")
    after = await view.tenant_agents("acme")
    assert after is not None and after.offered("support") is None
    assert view.stats.loads == loads + 1
    assert await view.tenant_agents("nobody") is None
