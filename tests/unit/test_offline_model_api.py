"""The offline model as a LangChain chat model: tool binding, roles, usage metadata,
determinism, the sync/async/stream paths, the injected clock and message shapes.
"""

from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agentgraph.clock import ManualClock
from agentgraph.handoff import HANDOFF_DESTINATION
from agentgraph.models.offline import OfflineChatModel
from tests.support.offline_tools import (
    HANDOFFS,
    TOOLS,
    ask,
    check_balance,
    model_for,
    only_call,
    reply,
    search_help_articles,
)


def test_an_unbound_tool_is_never_called():
    model = OfflineChatModel().bind_tools([search_help_articles, HANDOFFS["triage"]])
    message = model.invoke([HumanMessage("send 5000 to 0788000002")])
    assert not message.tool_calls
    assert message.content == reply("unavailable")


def test_a_model_without_tools_only_talks():
    answers = {
        "send 5000 to 0788000002": reply("unavailable"),
        "hello": reply("menu"),
        "xyzzy": reply("fallback"),
    }
    for text, expected in answers.items():
        message = OfflineChatModel().invoke([HumanMessage(text)])
        assert message.tool_calls == []
        assert message.content == expected
    assert reply("unavailable") == (
        'Sorry, I can\'t do that from here. Say "menu" to see what I can help you with.'
    )
    assert reply("menu").startswith("Hello! I'm your assistant. I can help you:\n")


def test_role_is_inferred_from_tools_and_agent_line():
    assert OfflineChatModel().bind_tools(TOOLS["triage"]).infer_role() == "triage"
    assert model_for("booking").infer_role() == "booking"
    assert model_for("payment").infer_role() == "payment"
    assert model_for("support").infer_role() == "support"
    bare = OfflineChatModel()
    assert bare.infer_role([SystemMessage("agent: support\nYou help.")]) == "support"
    assert OfflineChatModel(role="booking").infer_role() == "booking"


def test_agent_line_makes_a_toolless_specialist_hand_menus_to_triage():
    model = OfflineChatModel().bind_tools([check_balance, HANDOFFS["triage"]])
    message = model.invoke([SystemMessage("agent: payment"), HumanMessage("menu")])
    assert only_call(message) == ("transfer_to_triage", {"reason": "help"})


def test_message_metadata_and_usage():
    message = ask("payment", "what's my balance?")
    assert message.response_metadata == {"model_name": "offline"}
    usage = message.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert OfflineChatModel()._llm_type == "agentgraph-offline"


def test_output_is_deterministic():
    transfer = ("transfer_money", {"recipient_phone": "+250788000002", "amount": 5000})
    answers = [ask("payment", "send 5000 to 0788000002") for _ in range(3)]
    assert [only_call(message) for message in answers] == [transfer] * 3
    # The same conversation gives the same call id too (it is derived, not random).
    assert len({message.tool_calls[0]["id"] for message in answers}) == 1


def test_bind_tools_accepts_dicts_and_functions_and_remembers_schemas():
    def ticket_status(ticket_id: int) -> str:
        """Status of a ticket."""
        return ""

    schema = {
        "type": "function",
        "function": {
            "name": "get_customer_info",
            "description": "Customer record by email.",
            "parameters": {
                "type": "object",
                "properties": {"customer_email": {"type": "string"}},
                "required": ["customer_email"],
            },
        },
    }
    model = OfflineChatModel().bind_tools([ticket_status, schema])
    assert set(model.tool_schemas) == {"ticket_status", "get_customer_info"}
    assert "ticket_id" in model.tool_schemas["ticket_status"]["properties"]
    message = model.invoke([HumanMessage("status of ticket 9")])
    assert only_call(message) == ("ticket_status", {"ticket_id": 9})


async def test_async_and_streaming_give_the_same_answer():
    model = model_for("booking")
    messages = [HumanMessage("bus from Kigali to Huye tomorrow")]
    search = ("search_trips", {"origin": "Kigali", "destination": "Huye", "date": "tomorrow"})
    chunks = [chunk async for chunk in model.astream(messages)]
    assert len(chunks) == 1
    for answer in (model.invoke(messages), await model.ainvoke(messages), chunks[0]):
        assert answer.content == ""
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == [search]


async def test_async_and_streaming_relay_the_same_text():
    model = model_for("payment")
    messages = [
        HumanMessage("what's my balance?"),
        AIMessage("", tool_calls=[{"name": "check_balance", "args": {}, "id": "c1"}]),
        ToolMessage("Your balance is 50,000 RWF.", tool_call_id="c1", name="check_balance"),
    ]
    chunks = [chunk async for chunk in model.astream(messages)]
    assert [chunk.content for chunk in chunks] == ["Your balance is 50,000 RWF."]
    for answer in (model.invoke(messages), await model.ainvoke(messages), chunks[0]):
        assert answer.content == "Your balance is 50,000 RWF."
        assert answer.tool_calls == []


def test_the_injected_clock_decides_which_day_is_the_day_after_tomorrow():
    # 23:30 UTC on 1 March is already 01:30 on 2 March in Kigali (UTC+2): the calendar
    # day is Kigali's, so the day after tomorrow is 4 March, whatever the wall clock says.
    clock = ManualClock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    model = OfflineChatModel(clock=clock).bind_tools(TOOLS["booking"])
    question = [HumanMessage("bus from Kigali to Huye the day after tomorrow")]
    route = {"origin": "Kigali", "destination": "Huye"}
    assert only_call(model.invoke(question)) == ("search_trips", {**route, "date": "2026-03-04"})
    clock.advance(days=1)
    assert only_call(model.invoke(question)) == ("search_trips", {**route, "date": "2026-03-05"})


def test_the_injected_clock_decides_the_year_of_a_date_without_one():
    question = [HumanMessage("from Huye to Kigali on 25/12")]
    for now, expected in [
        (datetime(2026, 12, 20, 8, 0, tzinfo=UTC), "2026-12-25"),
        (datetime(2026, 12, 26, 8, 0, tzinfo=UTC), "2027-12-25"),
    ]:
        model = OfflineChatModel(clock=ManualClock(now)).bind_tools(TOOLS["booking"])
        name, args = only_call(model.invoke(question))
        assert (name, args["date"]) == ("search_trips", expected)


def test_multimodal_content_blocks_are_read_as_text():
    message = model_for("payment").invoke(
        [HumanMessage(content=[{"type": "text", "text": "what's my balance?"}])]
    )
    assert only_call(message) == ("check_balance", {})


def test_account_lookups_without_an_email_use_the_callers_own_account():
    # No email in the message: the tool answers for the account linked to the caller.
    message = ask("support", "show invoices")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("list_invoices", {})]


def test_a_route_started_before_a_handoff_is_completed_after_it():
    """The handoff into the specialist is no served request: the origin the user gave
    before it still counts when the destination follows."""
    call = AIMessage("", tool_calls=[{"name": "transfer_to_booking", "args": {}, "id": "h1"}])
    moved = ToolMessage(
        "Transferred to booking.",
        tool_call_id="h1",
        name="transfer_to_booking",
        response_metadata={HANDOFF_DESTINATION: "booking"},
    )
    asked = AIMessage("Where would you like to go from Kigali?")
    name, args = only_call(ask("booking", "trips from Kigali", call, moved, asked, "to Huye"))
    assert name == "search_trips"
    assert (args["origin"], args["destination"]) == ("Kigali", "Huye")


@pytest.mark.parametrize("text", ["send -500 to 0788000002", "send minus 500 to 0788000002"])
def test_a_negative_amount_keeps_its_sign_for_the_tool_to_refuse(text):
    name, args = only_call(ask("payment", text))
    assert (name, args["amount"], args["recipient_phone"]) == (
        "transfer_money",
        -500,
        "+250788000002",
    )


def test_several_transfers_propose_the_first_and_say_so():
    message = ask("payment", "send 1000 to 0788000002 and 2000 to 0788000003")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("transfer_money", {"recipient_phone": "+250788000002", "amount": 1000})
    ]
    assert message.content == (
        "I can make one transfer at a time, so here is the first one: 1000 RWF to "
        "+250788000002. Send me the next one after this."
    )
