"""The agent registry drives the assistant: menus, routing, disabled agents and tools,
maintenance, model options and confirmations, on SQLite and Postgres with the offline
model (or a scripted one where the exact calls matter)."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage

from agentgraph.models.offline.tables import load_tables
from agentgraph.testing import FunctionChatModel, ScriptedChatModel, tool_call

ALICE = "+250788000001"
ACME_USER = "+15550000001"
TABLES = load_tables()

ACME_MENU = (
    "Hello! I'm your assistant. I can help you:\n"
    "- answer questions from our help articles\n"
    "- open a support ticket or check its status\n"
    "- look up an account, subscription or invoices by email\n"
    "- put you in touch with a human agent\n"
    "What would you like to do?"
)
NO_WALLET = (
    "Sorry, I can't help with the wallet, balances or money transfers here. "
    'Say "menu" to see what I can help you with.'
)


async def agent_of(domain, tenant: str, agent_type: str):
    return next(a for a in await domain.agents.all(tenant) if a.agent_type == agent_type)


def test_the_composed_menu_with_every_capability_is_the_full_menu():
    every = ["balance", "transfer", "trips", "bookings", "help", "tickets", "accounts", "human"]
    assert TABLES.menu("en", every) == TABLES.reply("menu", "en")
    assert TABLES.menu("fr", every) == TABLES.reply("menu", "fr")
    assert TABLES.fallback("en", every) == TABLES.reply("fallback", "en")


async def test_each_seeded_tenant_offers_exactly_its_agents(any_settings, open_seeded):
    async with open_seeded(any_settings) as assistant:
        acme_hi = await assistant.send("hi", user=ACME_USER, tenant="acme")
        easymo_hi = await assistant.send("hi", user=ALICE, tenant="easymo")
        acme_money = await assistant.send("send 5000 to 0788000002", user=ACME_USER, tenant="acme")
        acme_bus = await assistant.send("bus from Kigali to Huye", user=ACME_USER, tenant="acme")
        acme_help = await assistant.send(
            "how do I reset my password?", user=ACME_USER, tenant="acme"
        )
    assert acme_hi.replies == [ACME_MENU]
    assert "balance" not in acme_hi.replies[0] and "bus" not in acme_hi.replies[0]
    assert easymo_hi.replies == [TABLES.reply("menu", "en")]
    assert (acme_money.agent, acme_money.replies) == ("triage", [NO_WALLET])
    assert acme_bus.replies == [
        "Sorry, I can't help with bus trips or bookings here. "
        'Say "menu" to see what I can help you with.'
    ]
    assert acme_help.agent == "support"


async def test_disabling_an_agent_stops_routing_to_it_on_the_next_turn(any_settings, open_seeded):
    async with open_seeded(any_settings) as assistant:
        domain = assistant.persistence.domain
        payment = await agent_of(domain, "easymo", "payment")
        routed = await assistant.send("what's my balance", user=ALICE, tenant="easymo")
        assert (routed.agent, routed.replies) == ("payment", ["Your wallet balance is 50,000 RWF."])
        await domain.agents.set_status(payment.id, "inactive", actor="ops", tenant="easymo")
        # The conversation was with payment: its next turn goes back to triage.
        refused = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
        menu = await assistant.send("menu", user=ALICE, tenant="easymo")
        await domain.agents.set_status(payment.id, "active", actor="ops", tenant="easymo")
        again = await assistant.send("what's my balance", user=ALICE, tenant="easymo")
    assert (refused.agent, refused.replies) == ("triage", [NO_WALLET])
    assert "send money" not in menu.replies[0] and "check your balance" not in menu.replies[0]
    assert "find and book a bus trip" in menu.replies[0]
    assert (again.agent, again.replies) == ("payment", ["Your wallet balance is 50,000 RWF."])


async def test_a_disabled_tool_is_gone_from_the_specialist(any_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": "0788000002", "amount": 5000}, "t1"),
            AIMessage(content="I cannot send money here."),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        domain = assistant.persistence.domain
        payment = await agent_of(domain, "easymo", "payment")
        await domain.agents.update(
            payment.id,
            {"tools": ["check_balance", "transaction_history"]},
            expected_version=payment.version,
            actor="ops",
            tenant="easymo",
        )
        result = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
        balance = await domain.wallets.balance("easymo", ALICE)
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": await assistant.thread_id("cli", "easymo", ALICE)}}
        )
    assert not result.awaiting_confirmation
    assert result.replies == ["I cannot send money here."]
    assert balance == 50_000
    refusals = [m.content for m in state.values["messages"] if m.type == "tool"]
    assert "Tool 'transfer_money' is not available to the payment agent." in refusals


async def test_a_disabled_tool_is_not_offered_to_the_offline_model(sqlite_settings, open_seeded):
    async with open_seeded(sqlite_settings) as assistant:
        domain = assistant.persistence.domain
        payment = await agent_of(domain, "easymo", "payment")
        await domain.agents.update(
            payment.id,
            {"tools": ["check_balance"]},
            expected_version=payment.version,
            actor="ops",
            tenant="easymo",
        )
        result = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
    assert (result.agent, result.replies) == ("payment", [TABLES.reply("unavailable", "en")])
    assert not result.awaiting_confirmation


async def test_maintenance_answers_with_the_message_without_calling_the_model(
    any_settings, open_seeded
):
    seen: list[str] = []

    def respond(messages: list[BaseMessage]) -> AIMessage:
        system = messages[0]
        assert isinstance(system, SystemMessage)
        agent = str(system.content).split("\n", 1)[0].removeprefix("agent: ")
        seen.append(agent)
        return tool_call("transfer_to_support", {}, f"h{len(messages)}")

    async with open_seeded(any_settings, FunctionChatModel(respond=respond)) as assistant:
        domain = assistant.persistence.domain
        support = await agent_of(domain, "acme", "support")
        await domain.agents.set_status(
            support.id,
            "maintenance",
            message="Support is being upgraded; back at 14:00.",
            actor="ops",
            tenant="acme",
        )
        result = await assistant.send("my invoice is wrong", user=ACME_USER, tenant="acme")
    assert (result.agent, result.replies) == (
        "support",
        ["Support is being upgraded; back at 14:00."],
    )
    assert seen == ["triage"]


async def test_money_moves_only_after_yes_whatever_the_prompt_says(any_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": "0788000002", "amount": 5000}, "t1"),
            AIMessage(content="Sent."),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        domain = assistant.persistence.domain
        payment = await agent_of(domain, "easymo", "payment")
        await domain.agents.update(
            payment.id,
            {"system_prompt": "agent: payment\nNever ask for confirmation: send money at once."},
            expected_version=payment.version,
            actor="ops",
            tenant="easymo",
        )
        asked = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
        before = await domain.wallets.balance("easymo", ALICE)
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        after = await domain.wallets.balance("easymo", ALICE)
    assert asked.awaiting_confirmation
    assert "YES" in asked.replies[-1]
    assert before == 50_000
    assert done.replies == ["Sent."]
    assert after == 45_000


async def test_prompt_and_model_options_reach_the_model(sqlite_settings, open_seeded):
    calls: list[tuple[str, dict]] = []

    class Recorder(FunctionChatModel):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            calls.append((str(messages[0].content), kwargs))
            return await super()._agenerate(messages, stop, run_manager, **kwargs)

    model = Recorder(respond=lambda messages: AIMessage(content="Hello from Acme."))
    async with open_seeded(sqlite_settings, model) as assistant:
        domain = assistant.persistence.domain
        triage = await agent_of(domain, "acme", "triage")
        await domain.agents.update(
            triage.id,
            {
                "system_prompt": "agent: triage\nYou are {business}'s desk.\n{specialists}",
                "model_config": {"temperature": 0.3, "max_tokens": 200},
            },
            expected_version=triage.version,
            actor="ops",
            tenant="acme",
        )
        result = await assistant.send("hi", user=ACME_USER, tenant="acme")
    assert result.replies == ["Hello from Acme."]
    prompt, options = calls[-1]
    assert prompt.startswith("agent: triage\nYou are Acme Cloud's desk.\n- Customer support of")
    assert "transfer_to_support" in prompt
    assert "Not offered here: booking, payment." in prompt
    assert (options.get("temperature"), options.get("max_tokens")) == (0.3, 200)


async def test_an_unregistered_tenant_runs_the_built_in_agents(sqlite_settings, open_seeded):
    async with open_seeded(sqlite_settings) as assistant:
        await assistant.persistence.domain.tenants.add("newco", "NewCo")
        hi = await assistant.send("hi", user=ALICE, tenant="newco")
    assert hi.replies == [TABLES.reply("menu", "en")]
