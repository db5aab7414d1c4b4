"""What the assistant graph is made of and what each agent may do: its exact nodes and
edges, each agent's exact tool set, routing to the specialists, and tools that act only
for the caller, on real databases with scripted models.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, ToolMessage
from pydantic import Field

from agentgraph.agents.roster import Rosters
from agentgraph.prompts import prompt_library
from agentgraph.testing import ScriptedChatModel, tool_call

ALICE = "+250788000001"
BOB = "+250788000002"


def say(text: str) -> AIMessage:
    return AIMessage(content=text)


async def balance(assistant, phone: str) -> int:
    return await assistant.persistence.domain.wallets.balance("easymo", phone)


async def test_triage_routes_balance_question_to_payment(any_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {"reason": "balance"}, "c1"),
            tool_call("check_balance", {}, "c2"),
            say("You have 50,000 RWF."),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        result = await assistant.send("how much money do I have?", user=ALICE, tenant="easymo")
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}}
        )
    assert result.replies == ["You have 50,000 RWF."]
    assert result.agent == "payment"
    tool_results = [m.content for m in state.values["messages"] if isinstance(m, ToolMessage)]
    assert "Your wallet balance is 50,000 RWF." in tool_results


async def test_each_intent_reaches_its_specialist(sqlite_settings, open_seeded):
    script = []
    for agent in ("booking", "payment", "support"):
        script += [tool_call(f"transfer_to_{agent}", {}, f"h-{agent}"), say(f"{agent} here")]
        if agent != "support":
            script += [tool_call("transfer_to_triage", {}, f"back-{agent}"), say("menu")]
    model = ScriptedChatModel(responses=script)
    async with open_seeded(sqlite_settings, model) as assistant:
        seen = []
        for text in ("bus", "menu", "wallet", "menu", "help"):
            seen.append((await assistant.send(text, user=ALICE, tenant="easymo")).agent)
    assert seen == ["booking", "triage", "payment", "triage", "support"]


async def test_model_cannot_act_for_another_user(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("check_balance", {"phone": ALICE, "user_id": ALICE}, "b1"),
            say("ok"),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        await assistant.persistence.domain.wallets.transfer("easymo", BOB, ALICE, 1000, "setup-1")
        await assistant.send("balance", user=BOB, tenant="easymo")
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", BOB))}}
        )
        result = [m.content for m in state.values["messages"] if isinstance(m, ToolMessage)][-1]
        assert result == "Your wallet balance is 49,000 RWF."
    from agentgraph.tools import TOOLS

    for name, tool in TOOLS.items():
        assert not {"phone", "user", "user_id", "sender", "tenant"} & set(tool.args), name


async def test_agent_cannot_call_tools_outside_its_set(sqlite_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_booking", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 100}, "t1"),
            say("I can't do that here."),
        ]
    )
    async with open_seeded(sqlite_settings, model) as assistant:
        result = await assistant.send("book and pay", user=ALICE, tenant="easymo")
        assert not result.awaiting_confirmation
        assert result.replies == ["I can't do that here."]
        assert await balance(assistant, ALICE) == 50_000


AGENTS = ("triage", "booking", "payment", "support")


async def test_the_compiled_graph_has_exactly_its_nodes_and_edges(sqlite_settings, open_seeded):
    async with open_seeded(sqlite_settings, ScriptedChatModel(responses=[])) as assistant:
        drawn = assistant.graph.get_graph()
    assert set(drawn.nodes) == {"__start__", "__end__", "start_turn", "tools", *AGENTS}
    edges = {(e.source, e.target, e.conditional) for e in drawn.edges}
    assert edges == {
        ("__start__", "start_turn", False),
        ("start_turn", "__end__", True),
        *{("start_turn", agent, True) for agent in AGENTS},
        *{(agent, "tools", True) for agent in AGENTS},
        *{(agent, "__end__", True) for agent in AGENTS},
        *{("tools", agent, True) for agent in AGENTS},
        # A specialist the registry switched off hands its conversation back to triage.
        *{(agent, "triage", True) for agent in AGENTS if agent != "triage"},
    }


class ToolRecordingModel(ScriptedChatModel):
    """Records the tool names each `bind_tools` call gave it (one call per agent)."""

    bound: list[set[str]] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs):
        self.bound.append({t.name for t in tools})
        return super().bind_tools(tools, **kwargs)


async def test_each_agent_is_bound_to_exactly_its_tools(sqlite_settings, open_seeded):
    model = ToolRecordingModel(responses=[], bound=[])
    common = {"get_user_profile", "update_preferences", "escalate_to_human"}
    support = {
        "search_help_articles", "create_ticket", "ticket_status", "get_customer_info",
        "get_subscription_details", "list_invoices", *common,
    }  # fmt: skip
    async with open_seeded(sqlite_settings, model) as assistant:
        rosters = Rosters(assistant.persistence.domain.agent_view, prompt_library())
        easymo = await rosters.for_tenant("easymo")
        acme = await rosters.for_tenant("acme")
        for agent in AGENTS:
            easymo.offered(agent).bound(model)  # what the agent node hands the model
    assert model.bound == [
        {"transfer_to_booking", "transfer_to_payment", "transfer_to_support"},
        {
            "search_trips", "check_availability", "create_booking", "cancel_booking",
            "list_bookings", "check_balance", *common,
            "transfer_to_triage", "transfer_to_payment", "transfer_to_support",
        },
        {
            "check_balance", "transaction_history", "transfer_money", *common,
            "transfer_to_triage", "transfer_to_booking", "transfer_to_support",
        },
        {*support, "transfer_to_triage", "transfer_to_booking", "transfer_to_payment"},
    ]  # fmt: skip
    assert [set(easymo.allowed(agent)) for agent in AGENTS] == model.bound
    # acme runs triage and support only: no wallet, no trips, no handoff to them.
    assert {agent: set(acme.allowed(agent)) for agent in AGENTS} == {
        "triage": {"transfer_to_support"},
        "booking": set(),
        "payment": set(),
        "support": {*support, "transfer_to_triage"},
    }


async def test_a_negative_amount_is_refused_with_the_reason(sqlite_settings, open_seeded):
    async with open_seeded(sqlite_settings) as assistant:
        result = await assistant.send("send -500 to 0788000002", user=ALICE, tenant="easymo")
        assert result.replies == ["The amount must be a positive number of RWF."]
        assert not result.awaiting_confirmation
        assert await balance(assistant, ALICE) == 50_000
