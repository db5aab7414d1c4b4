"""The LLM path end to end: build_chat_model -> ChatOpenAI -> HTTP -> a local fake OpenAI server.

Every request crosses a real socket in the OpenAI wire format (JSON and SSE), through
the openai client's retries and timeouts, so these tests show what production does on
429s, 5xx, slow servers and spent budgets, with no network beyond 127.0.0.1. Failures and
the fallback are `test_openai_fallback.py`.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, get_usage_metadata_callback
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import LLMResult
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from pydantic import BaseModel

from agentgraph.config import Settings
from agentgraph.models import ResilientChatModel, SpendBudget, build_chat_model, estimate_cost_usd
from tests.support.llm import (
    build,
    check_balance,
    merge,
    offline,
    search_trips,
)
from tests.support.openai_server import (  # noqa: F401  (registers the fixture here)
    openai_server as _openai_server_fixture,
)
from tests.support.openai_wire import HttpError, Reply, ToolCall, ToolCalls, Usage

# Plain replies, usage and cost ---------------------------------------------------------


async def test_plain_reply_carries_usage_and_its_cost_is_recorded(openai_server):
    openai_server.script(
        Reply(
            "Muraho! How can I help?",
            usage=Usage(prompt_tokens=1200, completion_tokens=300, cached_tokens=200),
            model="gpt-4o-mini-2024-07-18",
        )
    )
    budget = SpendBudget(daily_usd=10.0)
    model = build(openai_server, budget=budget)

    reply = await model.ainvoke([HumanMessage("hello")])

    assert reply.content == "Muraho! How can I help?"
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 1200
    assert reply.usage_metadata["output_tokens"] == 300
    assert reply.usage_metadata["input_token_details"]["cache_read"] == 200
    assert reply.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"
    assert "fallback" not in reply.response_metadata
    expected = (1000 * 0.15 + 200 * 0.075 + 300 * 0.60) / 1_000_000
    assert estimate_cost_usd(reply.response_metadata["model_name"], reply.usage_metadata) == (
        pytest.approx(expected)
    )
    assert budget.spent_day == pytest.approx(expected)

    (sent,) = openai_server.requests
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [{"role": "user", "content": "hello"}]
    assert openai_server.headers[0]["authorization"] == "Bearer sk-test-key"


async def test_a_local_server_without_key_sends_the_keyless_api_key(openai_server):
    openai_server.script("hi from vLLM")
    settings = Settings(OPENAI_BASE_URL=openai_server.base_url, AGENTGRAPH_MODEL="qwen2.5")
    model = build_chat_model(settings, budget=SpendBudget(daily_usd=1.0), fallback=offline())
    reply = await model.ainvoke("hi")
    assert reply.content == "hi from vLLM"
    assert openai_server.headers[0]["authorization"] == "Bearer not-needed"
    assert openai_server.requests[0]["model"] == "qwen2.5"


# Tool calls ------------------------------------------------------------------------------


async def test_tool_call_response_is_parsed_with_args_when_tools_are_bound(openai_server):
    openai_server.script(
        ToolCalls([ToolCall("search_trips", {"origin": "Kigali", "destination": "Huye"}, "c1")])
    )
    model = build(openai_server).bind_tools([search_trips, check_balance])

    reply = await model.ainvoke("Is there a bus from Kigali to Huye?")

    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == [
        {
            "name": "search_trips",
            "args": {"origin": "Kigali", "destination": "Huye"},
            "id": "c1",
            "type": "tool_call",
        }
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    sent_tools = openai_server.requests[0]["tools"]
    assert [t["function"]["name"] for t in sent_tools] == ["search_trips", "check_balance"]
    assert sent_tools[0]["function"]["parameters"]["required"] == ["origin", "destination"]


async def test_structured_output_uses_a_forced_tool_call(openai_server):
    class Intent(BaseModel):
        intent: str
        confidence: float

    openai_server.script(ToolCalls([ToolCall("Intent", {"intent": "booking", "confidence": 0.9})]))
    model = build(openai_server)

    result = await model.with_structured_output(Intent).ainvoke("I want a bus ticket")

    assert result == Intent(intent="booking", confidence=0.9)
    sent = openai_server.requests[0]
    assert sent["tool_choice"] == "required"
    assert "ls_structured_output_format" not in sent


# Streaming -------------------------------------------------------------------------------


async def test_astream_assembles_text_with_usage(openai_server):
    openai_server.script(
        Reply("Your balance is 12000 RWF.", usage=Usage(prompt_tokens=50, completion_tokens=9))
    )
    budget = SpendBudget(daily_usd=10.0)
    model = build(openai_server, budget=budget)

    chunks = [c async for c in model.astream("balance?")]

    assert sum(1 for c in chunks if c.content) >= 2, "text arrives in several deltas"
    merged = merge(chunks)
    assert merged.content == "Your balance is 12000 RWF."
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["input_tokens"] == 50
    assert merged.usage_metadata["output_tokens"] == 9
    assert merged.response_metadata["model_name"] == "gpt-4o-mini"
    assert budget.spent_day == pytest.approx((50 * 0.15 + 9 * 0.60) / 1_000_000)
    sent = openai_server.requests[0]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_astream_assembles_streamed_tool_call_arguments(openai_server):
    args = {"origin": "Kigali", "destination": "Musanze", "date": "tomorrow"}
    openai_server.script(
        ToolCalls([ToolCall("search_trips", args, "c9")], text="Let me look.", model="gpt-4o-mini")
    )
    model = build(openai_server).bind_tools([search_trips])

    chunks = [c async for c in model.astream("bus to Musanze tomorrow")]

    arg_deltas = [tc for c in chunks for tc in c.tool_call_chunks if tc.get("args")]
    assert len(arg_deltas) >= 2, "arguments arrive in several deltas"
    merged = merge(chunks)
    assert merged.content == "Let me look."
    assert merged.tool_calls == [
        {"name": "search_trips", "args": args, "id": "c9", "type": "tool_call"}
    ]
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["output_tokens"] > 0
    assert merged.response_metadata["finish_reason"] == "tool_calls"


# Tracing and usage callbacks --------------------------------------------------------------


class RunRecorder(BaseCallbackHandler):
    """Records the chat-model runs a call opens, as a tracer would see them."""

    def __init__(self) -> None:
        self.starts: list[dict[str, Any]] = []
        self.ends: list[LLMResult] = []

    def on_chat_model_start(self, serialized, messages, *, run_id, metadata=None, **kwargs):
        self.starts.append({"serialized": serialized, "metadata": metadata or {}, **kwargs})

    def on_llm_end(self, response, *, run_id, **kwargs):
        self.ends.append(response)


async def test_one_traced_model_run_per_call_with_provider_model_and_usage(openai_server):
    openai_server.script(Reply("hi", usage=Usage(prompt_tokens=40, completion_tokens=2)))
    model = build(openai_server).bind_tools([check_balance])
    recorder = RunRecorder()

    with get_usage_metadata_callback() as usage_cb:
        await model.ainvoke("hi", config={"callbacks": [recorder]})

    (start,) = recorder.starts
    assert start["metadata"]["ls_provider"] == "openai"
    assert start["metadata"]["ls_model_name"] == "gpt-4o-mini"
    assert start["invocation_params"]["tools"][0]["function"]["name"] == "check_balance"
    assert "sk-test-key" not in json.dumps(start, default=str)
    (end,) = recorder.ends
    assert end.generations[0][0].message.usage_metadata["input_tokens"] == 40
    # Usage is counted once, not once per wrapper layer.
    assert usage_cb.usage_metadata["gpt-4o-mini"]["input_tokens"] == 40
    assert usage_cb.usage_metadata["gpt-4o-mini"]["output_tokens"] == 2


# A whole turn, as LangGraph runs it, with the network cut ---------------------------------------


@pytest.fixture
def no_network_but_loopback(monkeypatch, tmp_path):
    """Refuse every connection and DNS lookup that is not 127.0.0.1, and make any use of
    tiktoken fail (its first use downloads encoding tables)."""
    import tiktoken

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo
    local = {"127.0.0.1", "localhost", "::1"}

    def check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in local:
            raise OSError(f"network disabled in this test (tried {address!r})")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        check((host,))
        return real_getaddrinfo(host, *args, **kwargs)

    def no_tiktoken(*args, **kwargs):
        raise AssertionError("tiktoken was used (it downloads its tables on first use)")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(tiktoken, "get_encoding", no_tiktoken)
    monkeypatch.setattr(tiktoken, "encoding_for_model", no_tiktoken)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken-empty"))


def tool_loop_graph(model: ResilientChatModel):
    bound = model.bind_tools([search_trips, check_balance])

    async def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([search_trips, check_balance]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile()


async def test_a_tool_calling_turn_streams_through_langgraph_without_network(
    openai_server, no_network_but_loopback
):
    openai_server.script(
        ToolCalls([ToolCall("search_trips", {"origin": "Kigali", "destination": "Huye"}, "c1")]),
        Reply("Trip 7 leaves Kigali for Huye at 09:00 and costs 3000 RWF."),
    )
    budget = SpendBudget(daily_usd=10.0)
    graph = tool_loop_graph(build(openai_server, budget=budget))

    tokens: dict[str, str] = {}
    final: dict[str, Any] = {}
    async for mode, payload in graph.astream(
        {"messages": [HumanMessage("Bus from Kigali to Huye?")]},
        stream_mode=["messages", "values"],
    ):
        if mode == "messages":
            message, metadata = payload
            if isinstance(message, AIMessageChunk) and metadata["langgraph_node"] == "agent":
                tokens[message.id or ""] = tokens.get(message.id or "", "") + str(message.content)
        else:
            final = payload

    with pytest.raises(OSError, match="network disabled"):
        socket.create_connection(("93.184.216.34", 443), timeout=1)
    answer = final["messages"][-1]
    assert answer.content == "Trip 7 leaves Kigali for Huye at 09:00 and costs 3000 RWF."
    assert all(r["stream"] is True for r in openai_server.requests), "messages mode streams"
    assert "fallback" not in answer.response_metadata
    # Each model call is streamed exactly once (no duplicate chunks from a nested run).
    assert sorted(t for t in tokens.values() if t) == [answer.content]
    assert len(openai_server.requests) == 2
    second = openai_server.requests[1]
    assert [t["function"]["name"] for t in second["tools"]] == ["search_trips", "check_balance"]
    tool_reply = second["messages"][-1]
    assert tool_reply["role"] == "tool"
    assert tool_reply["tool_call_id"] == "c1"
    assert "09:00" in tool_reply["content"]
    assistant_call = second["messages"][-2]
    assert assistant_call["tool_calls"][0]["function"]["name"] == "search_trips"
    assert json.loads(assistant_call["tool_calls"][0]["function"]["arguments"]) == {
        "origin": "Kigali",
        "destination": "Huye",
    }
    assert budget.spent_day > 0


async def test_a_turn_whose_llm_is_down_is_answered_offline_without_network(
    openai_server, no_network_but_loopback
):
    openai_server.script(HttpError(500, retry_after_ms=10), HttpError(500, retry_after_ms=10))
    graph = tool_loop_graph(build(openai_server, fallback=offline("Offline answer.")))

    result = await graph.ainvoke({"messages": [HumanMessage("hi")]})

    answer = result["messages"][-1]
    assert answer.content == "Offline answer."
    assert answer.response_metadata["fallback"] is True
