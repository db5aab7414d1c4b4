"""build_chat_model's choices and ResilientChatModel's fallback logic, with in-process fakes."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx2
import openai
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableBinding
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel, Field

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.models import (
    ResilientChatModel,
    SpendBudget,
    build_chat_model,
    shared_budget,
)
from agentgraph.models.budget import StoreSpend
from agentgraph.models.factory import KEYLESS_API_KEY


@tool
def check_balance() -> str:
    """Show the wallet balance."""
    return "0 RWF"


@tool
def search_trips(origin: str, destination: str) -> str:
    """Search bus trips."""
    return "none"


class ScriptedFallback(FakeMessagesListChatModel):
    """Stands in for the offline model: replays messages, remembers bound tool names."""

    bound_tools: list[str] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs):
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.model_copy(update={"bound_tools": names})


class FailingModel(BaseChatModel):
    """A primary whose every call raises `error` (after counting the call)."""

    error: Exception
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls += 1
        raise self.error

    def bind_tools(self, tools, **kwargs):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools])


class FailingStreamingModel(FailingModel):
    """A streaming primary that yields `chunks_before_error` chunks, then raises."""

    chunks_before_error: int = 0

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        for i in range(self.chunks_before_error):
            yield ChatGenerationChunk(message=AIMessageChunk(content=f"part{i} "))
        raise self.error


class CountingModel(BaseChatModel):
    """A primary that answers with a fixed priced message and counts calls."""

    calls: int = 0
    model_name: str = "gpt-4o-mini"

    @property
    def _llm_type(self) -> str:
        return "counting"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls += 1
        message = AIMessage(
            "from the LLM",
            response_metadata={"model_name": "gpt-4o-mini-2024-07-18"},
            usage_metadata={"input_tokens": 1000, "output_tokens": 1000, "total_tokens": 2000},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def timeout_error() -> openai.APITimeoutError:
    return openai.APITimeoutError(request=httpx2.Request("POST", "http://llm.invalid/v1"))


def fallback_reply(text: str = "offline answer") -> ScriptedFallback:
    return ScriptedFallback(responses=[AIMessage(text, response_metadata={"model_name": "rules"})])


def settings(**env: Any) -> Settings:
    return Settings(**env)


# Factory choices -------------------------------------------------------------------------


def test_no_key_and_no_base_url_gives_the_fallback_model_itself():
    fallback = fallback_reply()
    assert build_chat_model(settings(), fallback=fallback) is fallback


def test_offline_flag_wins_over_a_key():
    fallback = fallback_reply()
    s = settings(OPENAI_API_KEY="sk-test", AGENTGRAPH_OFFLINE=True)
    assert not s.llm_configured
    assert build_chat_model(s, fallback=fallback) is fallback


def test_offline_flag_from_the_environment_wins_over_a_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("AGENTGRAPH_OFFLINE", "1")
    fallback = fallback_reply()
    assert build_chat_model(Settings(), fallback=fallback) is fallback


def test_without_an_llm_the_offline_model_is_built():
    from agentgraph.models.offline import OfflineChatModel

    assert isinstance(build_chat_model(settings()), OfflineChatModel)
    with_key_but_offline = settings(OPENAI_API_KEY="sk-test", AGENTGRAPH_OFFLINE=True)
    assert isinstance(build_chat_model(with_key_but_offline), OfflineChatModel)


def test_the_default_fallback_is_the_offline_model_and_learns_the_bound_tools():
    from agentgraph.models.offline import OfflineChatModel

    model = build_chat_model(settings(OPENAI_API_KEY="sk-test"))
    assert isinstance(model, ResilientChatModel)
    assert isinstance(model.fallback, OfflineChatModel)
    bound = model.bind_tools([check_balance, search_trips])
    assert isinstance(bound.fallback, OfflineChatModel)
    assert set(bound.fallback.tool_schemas) == {"check_balance", "search_trips"}


def test_the_offline_model_reads_the_clock_it_is_built_with():
    from agentgraph.models.offline import OfflineChatModel

    clock = ManualClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    offline = build_chat_model(settings(), clock=clock)
    assert isinstance(offline, OfflineChatModel)
    assert offline.clock is clock
    resilient = build_chat_model(settings(OPENAI_API_KEY="sk-test"), clock=clock)
    assert isinstance(resilient, ResilientChatModel)
    assert isinstance(resilient.fallback, OfflineChatModel)
    assert resilient.fallback.clock is clock


def test_importing_models_loads_no_rule_tables_and_no_higher_layer():
    # A fresh interpreter: this test process has long since imported everything.
    code = """
import sys
import agentgraph.models as models
assert not [n for n in sys.modules if n.startswith("agentgraph.models.offline")]
assert models.OfflineChatModel.__module__ == "agentgraph.models.offline.model"
import agentgraph.models.offline.policy, agentgraph.models.resilient
higher = ("domain", "tools", "agents", "runtime", "engagement", "operators", "knowledge")
bad = [n for n in sys.modules if n.split(".")[0] == "server"
       or (n.startswith("agentgraph.") and n.split(".")[1] in higher)]
assert not bad, bad
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_api_key_never_shows_in_reprs_or_traced_parameters():
    from langchain_core.load import dumpd

    model = build_chat_model(settings(OPENAI_API_KEY="sk-test-secret")).bind_tools([check_balance])
    assert isinstance(model, ResilientChatModel)
    assert "sk-test-secret" not in repr(model)
    assert "sk-test-secret" not in str(dumpd(model))
    assert "sk-test-secret" not in repr(model._get_invocation_params())


def test_a_key_gives_a_resilient_chat_openai_configured_from_settings():
    s = settings(
        OPENAI_API_KEY="sk-test",
        AGENTGRAPH_MODEL="gpt-4.1-mini",
        AGENTGRAPH_LLM_TIMEOUT_SECONDS=7,
        AGENTGRAPH_LLM_MAX_RETRIES=4,
    )
    model = build_chat_model(s, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    primary = model.primary
    assert isinstance(primary, ChatOpenAI)
    assert primary.model_name == "gpt-4.1-mini"
    assert primary.openai_api_key is not None
    assert primary.openai_api_key.get_secret_value() == "sk-test"
    assert primary.request_timeout == 7
    assert primary.max_retries == 4
    assert primary.stream_usage is True


def test_base_url_without_key_sends_the_keyless_api_key():
    s = settings(OPENAI_BASE_URL="http://127.0.0.1:11434/v1")
    model = build_chat_model(s, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    assert isinstance(model.primary, ChatOpenAI)
    assert model.primary.openai_api_base == "http://127.0.0.1:11434/v1"
    assert model.primary.openai_api_key is not None
    assert model.primary.openai_api_key.get_secret_value() == KEYLESS_API_KEY
    # Local servers get usage in streams too (ChatOpenAI turns it off for custom URLs).
    assert model.primary.stream_usage is True


def test_the_default_budget_is_the_shared_one_for_the_settings_limit():
    s = settings(OPENAI_API_KEY="sk-test", AGENTGRAPH_DAILY_COST_BUDGET_USD=3.25)
    model = build_chat_model(s, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    assert model.budget is shared_budget(3.25)
    mine = SpendBudget(daily_usd=1.0)
    model = build_chat_model(s, budget=mine, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    assert model.budget is mine


def test_building_makes_no_network_call(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used while building the model")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    model = build_chat_model(
        settings(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="https://llm.example.com/v1"),
        fallback=fallback_reply(),
    )
    model.bind_tools([check_balance, search_trips])


def test_wrapping_something_that_is_not_a_chat_model_is_refused():
    with pytest.raises(ValueError, match="chat models"):
        ResilientChatModel(primary=check_balance, fallback=fallback_reply())


# bind_tools ------------------------------------------------------------------------------


def test_bind_tools_binds_both_and_returns_a_new_wrapper():
    budget = SpendBudget(daily_usd=5.0)
    model = build_chat_model(
        settings(OPENAI_API_KEY="sk-test"), budget=budget, fallback=fallback_reply()
    )
    assert isinstance(model, ResilientChatModel)
    bound = model.bind_tools([check_balance, search_trips], tool_choice="auto")
    assert isinstance(bound, ResilientChatModel)
    assert bound is not model
    assert bound.budget is budget
    assert isinstance(bound.primary, RunnableBinding)
    tools = bound.primary.kwargs["tools"]
    assert [t["function"]["name"] for t in tools] == ["check_balance", "search_trips"]
    assert bound.primary.kwargs["tool_choice"] == "auto"
    assert isinstance(bound.fallback, ScriptedFallback)
    assert bound.fallback.bound_tools == ["check_balance", "search_trips"]
    # The original stays unbound, and binding again replaces rather than stacks.
    assert isinstance(model.primary, ChatOpenAI)
    rebound = bound.bind_tools([check_balance])
    assert isinstance(rebound.primary, RunnableBinding)
    assert [t["function"]["name"] for t in rebound.primary.kwargs["tools"]] == ["check_balance"]
    assert isinstance(rebound.fallback, ScriptedFallback)
    assert rebound.fallback.bound_tools == ["check_balance"]


def test_traced_invocation_params_show_the_primary_model_and_tools():
    model = build_chat_model(settings(OPENAI_API_KEY="sk-test"), fallback=fallback_reply())
    bound = model.bind_tools([check_balance])
    assert isinstance(bound, ResilientChatModel)
    params = bound._get_invocation_params()
    assert params["model"] == "gpt-4o-mini"
    assert params["tools"][0]["function"]["name"] == "check_balance"
    assert "sk-test" not in repr(params)
    ls = bound._get_ls_params()
    assert ls["ls_provider"] == "openai"
    assert ls["ls_model_name"] == "gpt-4o-mini"


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
