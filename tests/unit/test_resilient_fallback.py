"""ResilientChatModel's fallback logic with in-process fakes: failures, budgets, streaming
before and after the first chunk, structured output and token counting."""

from __future__ import annotations

from datetime import UTC, datetime

import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel

from agentgraph.clock import ManualClock
from agentgraph.models import (
    ResilientChatModel,
    SpendBudget,
    build_chat_model,
)
from agentgraph.models.budget import StoreSpend
from tests.support.chat_fakes import (
    CountingModel,
    FailingModel,
    FailingStreamingModel,
    ScriptedFallback,
    check_balance,
    fallback_reply,
    search_trips,
    settings,
    timeout_error,
)

# Fallback behaviour ----------------------------------------------------------------------


async def test_a_failing_primary_answers_with_the_tagged_fallback(caplog):
    primary = FailingModel(error=timeout_error())
    fallback = fallback_reply("offline answer")
    model = ResilientChatModel(
        primary=primary, fallback=fallback, budget=SpendBudget(daily_usd=1.0)
    )
    with caplog.at_level("WARNING", logger="agentgraph.models.resilient"):
        reply = await model.ainvoke([HumanMessage("my secret pin is 4321")])
    assert primary.calls == 1
    assert reply.content == "offline answer"
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "error"
    assert reply.response_metadata["model_name"] == "offline"
    # The fallback's stored message is not mutated by the tagging.
    assert "fallback" not in fallback.responses[0].response_metadata
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "APITimeoutError" in logged
    assert "4321" not in logged


def test_a_sync_call_is_refused_with_a_pointer_to_ainvoke():
    primary = FailingModel(error=timeout_error())
    model = ResilientChatModel(primary=primary, fallback=fallback_reply("sync offline"))
    with pytest.raises(TypeError, match="async only: call ainvoke/astream"):
        model.invoke("hello")
    with pytest.raises(TypeError, match="async only"):
        model.batch(["hello", "again"])
    with pytest.raises(TypeError, match="async only"):
        model.bind_tools([check_balance]).invoke("hello")
    # Refused outright: neither the LLM nor the fallback answered in its place.
    assert primary.calls == 0
    assert model.fallback.i == 0


async def test_programming_errors_are_not_hidden_by_the_fallback():
    primary = FailingModel(error=KeyError("bug"))
    model = ResilientChatModel(primary=primary, fallback=fallback_reply())
    with pytest.raises(KeyError):
        await model.ainvoke("hello")


async def test_an_exhausted_budget_never_calls_the_primary():
    primary = CountingModel()
    model = ResilientChatModel(
        primary=primary, fallback=fallback_reply(), budget=SpendBudget(daily_usd=0)
    )
    reply = await model.ainvoke("hello")
    assert primary.calls == 0
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "budget"


async def test_primary_cost_is_recorded_until_the_budget_runs_out():
    # Each CountingModel answer costs 1000*0.15/1e6 + 1000*0.60/1e6 = 0.00075 USD.
    primary = CountingModel()
    budget = SpendBudget(daily_usd=0.001)
    model = ResilientChatModel(primary=primary, fallback=fallback_reply(), budget=budget)
    first = await model.ainvoke("one")
    assert first.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"
    assert "fallback" not in first.response_metadata
    assert budget.spent_day == pytest.approx(0.00075)
    await model.ainvoke("two")
    assert budget.spent_day == pytest.approx(0.0015)
    third = await model.ainvoke("three")
    assert primary.calls == 2
    assert third.response_metadata["fallback_reason"] == "budget"


async def test_the_budget_is_checked_and_spent_through_its_shared_ledger():
    # Two workers share one ledger: what either spends counts against both.
    clock = ManualClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    ledger = StoreSpend(InMemoryStore())
    here = SpendBudget(daily_usd=0.001, clock=clock, ledger=ledger)
    elsewhere = SpendBudget(daily_usd=0.001, clock=clock, ledger=ledger)
    primary = CountingModel()
    model = ResilientChatModel(primary=primary, fallback=fallback_reply(), budget=here)

    first = await model.ainvoke("one")  # costs 0.00075 USD
    assert "fallback" not in first.response_metadata
    assert await elsewhere.aallows()
    assert elsewhere.spent_day == pytest.approx(0.00075)

    await elsewhere.arecord(0.0005)  # the other worker's call
    second = await model.ainvoke("two")
    streamed = [c async for c in model.astream("three")]
    assert primary.calls == 1
    assert second.response_metadata["fallback_reason"] == "budget"
    assert streamed[0].response_metadata["fallback_reason"] == "budget"
    assert here.spent_day == pytest.approx(0.00125)


async def test_streaming_fallback_from_a_non_streaming_model_keeps_tool_calls():
    primary = FailingModel(error=timeout_error())
    call = {"name": "search_trips", "args": {"origin": "Kigali", "destination": "Huye"}, "id": "c1"}
    fallback = ScriptedFallback(
        responses=[AIMessage("", tool_calls=[call], response_metadata={"model_name": "rules"})]
    )
    model = ResilientChatModel(primary=primary, fallback=fallback).bind_tools([search_trips])
    chunks = [c async for c in model.astream("bus to Huye")]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.tool_calls == [{**call, "type": "tool_call"}]
    assert merged.response_metadata["fallback"] is True
    assert merged.response_metadata["model_name"] == "offline"


async def test_streaming_fallback_from_a_streaming_model_reads_offline_once():
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    class StreamingFallback(GenericFakeChatModel):
        def bind_tools(self, tools, **kwargs):
            return self

    fallback = StreamingFallback(
        messages=iter([AIMessage("one two three", response_metadata={"model_name": "rules"})])
    )
    primary = FailingStreamingModel(error=timeout_error())
    model = ResilientChatModel(primary=primary, fallback=fallback)
    chunks = [c async for c in model.astream("hi")]
    assert primary.calls == 1
    assert len(chunks) > 2
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.content == "one two three"
    assert merged.response_metadata["model_name"] == "offline"
    assert merged.response_metadata["fallback"] is True


async def test_structured_output_goes_through_bind_tools():
    class Intent(BaseModel):
        intent: str

    call = {"name": "Intent", "args": {"intent": "booking"}, "id": "c1"}
    fallback = ScriptedFallback(responses=[AIMessage("", tool_calls=[call])])
    model = ResilientChatModel(primary=FailingModel(error=timeout_error()), fallback=fallback)
    structured = model.with_structured_output(Intent)
    assert await structured.ainvoke("book a bus") == Intent(intent="booking")
    with pytest.raises(TypeError, match="async only"):
        structured.invoke("book a bus")


def test_token_counting_never_uses_tiktoken(monkeypatch):
    import tiktoken

    def forbidden(*args, **kwargs):
        raise AssertionError("tiktoken must not be used")

    monkeypatch.setattr(tiktoken, "get_encoding", forbidden)
    monkeypatch.setattr(tiktoken, "encoding_for_model", forbidden)
    model = build_chat_model(settings(OPENAI_API_KEY="sk-test"), fallback=fallback_reply())
    assert model.get_num_tokens("twelve chars") == 3
    messages = [HumanMessage("hello there"), AIMessage("hi")]
    assert model.get_num_tokens_from_messages(messages) > 0
    assert model.get_num_tokens_from_messages(messages, tools=[search_trips]) > (
        model.get_num_tokens_from_messages(messages)
    )


async def test_a_stream_failing_after_its_first_chunk_raises_instead_of_splicing():
    primary = FailingStreamingModel(error=timeout_error(), chunks_before_error=2)
    model = ResilientChatModel(primary=primary, fallback=fallback_reply())
    seen = []
    with pytest.raises(openai.APITimeoutError):
        async for chunk in model.astream("hi"):
            seen.append(chunk.content)
    assert seen == ["part0 ", "part1 "]


def test_sync_streaming_is_refused_before_any_chunk():
    primary = FailingStreamingModel(error=timeout_error())
    model = ResilientChatModel(primary=primary, fallback=fallback_reply("sync stream"))
    seen = []
    with pytest.raises(TypeError, match="async only: call ainvoke/astream"):
        for chunk in model.stream("hi"):
            seen.append(chunk)
    assert seen == []
    assert primary.calls == 0


async def test_streaming_falls_back_before_the_first_chunk():
    primary = FailingStreamingModel(error=timeout_error())
    model = ResilientChatModel(primary=primary, fallback=fallback_reply("streamed offline"))
    chunks = [c async for c in model.astream("hi")]
    assert primary.calls == 1
    assert "".join(str(c.content) for c in chunks) == "streamed offline"
    assert chunks[0].response_metadata == {
        "fallback": True,
        "fallback_reason": "error",
        "model_name": "offline",
    }
