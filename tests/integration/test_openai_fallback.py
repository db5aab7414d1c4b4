"""The LLM path when the LLM fails: retries, the offline fallback, slow and unreachable
servers, spent budgets, through ChatOpenAI over HTTP to a local fake OpenAI server."""

from __future__ import annotations

from langchain_core.messages import HumanMessage

from agentgraph.config import Settings
from agentgraph.models import SpendBudget, build_chat_model
from tests.support.llm import build, check_balance, llm_settings, merge, offline, search_trips
from tests.support.openai_server import (  # noqa: F401  (registers the fixture here)
    openai_server as _openai_server_fixture,
)
from tests.support.openai_wire import Delay, HttpError, Reply, Usage, rate_limited

# Retries and fallbacks ---------------------------------------------------------------------


async def test_429_then_success_answers_after_one_retry(openai_server):
    openai_server.script(rate_limited(retry_after_ms=10), Reply("Done after a retry."))
    model = build(openai_server)

    reply = await model.ainvoke("hi")

    assert reply.content == "Done after a retry."
    assert "fallback" not in reply.response_metadata
    assert len(openai_server.requests) == 2


async def test_persistent_500_answers_with_the_fallback(openai_server, caplog):
    openai_server.script(
        HttpError(500, retry_after_ms=10),
        HttpError(500, retry_after_ms=10),
    )
    model = build(openai_server)

    with caplog.at_level("WARNING", logger="agentgraph.models.resilient"):
        reply = await model.ainvoke([HumanMessage("my PIN is 4321")])

    assert reply.content == "Offline: I can still help with bookings."
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "error"
    assert reply.response_metadata["model_name"] == "offline"
    assert len(openai_server.requests) == 2, "one try plus AGENTGRAPH_LLM_MAX_RETRIES=1"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP 500" in logged
    assert "4321" not in logged
    assert "sk-test-key" not in logged


async def test_the_real_offline_model_takes_over_with_the_bound_tools(openai_server):
    openai_server.script(HttpError(500, retry_after_ms=10), HttpError(500, retry_after_ms=10))
    model = build_chat_model(llm_settings(openai_server), budget=SpendBudget(daily_usd=1.0))
    bound = model.bind_tools([search_trips, check_balance])

    reply = await bound.ainvoke("Is there a bus from Kigali to Huye tomorrow?")

    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "error"
    assert reply.response_metadata["model_name"] == "offline"
    assert reply.content == ""
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("search_trips", {"origin": "Kigali", "destination": "Huye"})
    ]
    assert len(openai_server.requests) == 2


async def test_503_while_streaming_falls_back_before_any_token(openai_server):
    openai_server.script(HttpError(503, retry_after_ms=10), HttpError(503, retry_after_ms=10))
    model = build(openai_server, fallback=offline("Offline stream answer."))

    chunks = [c async for c in model.astream("hi")]

    merged = merge(chunks)
    assert merged.content == "Offline stream answer."
    assert merged.response_metadata["fallback"] is True
    assert merged.response_metadata["fallback_reason"] == "error"
    assert merged.response_metadata["model_name"] == "offline"
    assert len(openai_server.requests) == 2


async def test_a_slow_server_times_out_into_the_fallback(openai_server):
    # The server holds the request for 30 s; the fallback's answer arrives while it is
    # still held, so the client gave up at its own timeout, not at the server's reply.
    openai_server.script(Delay(30.0, then="too late"))
    model = build(openai_server, AGENTGRAPH_LLM_TIMEOUT_SECONDS=0.5, AGENTGRAPH_LLM_MAX_RETRIES=0)

    reply = await model.ainvoke("hi")

    assert openai_server.held == 1
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "error"
    assert reply.content == "Offline: I can still help with bookings."
    assert len(openai_server.requests) == 1


async def test_an_unreachable_server_falls_back(openai_server):
    port = openai_server.port
    openai_server.stop()
    settings = Settings(
        OPENAI_API_KEY="k",
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        AGENTGRAPH_LLM_MAX_RETRIES=0,
    )
    model = build_chat_model(settings, budget=SpendBudget(daily_usd=1.0), fallback=offline())
    reply = await model.ainvoke("hi")  # nothing listens on the port any more
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "error"
    assert reply.content == "Offline: I can still help with bookings."


async def test_an_exhausted_budget_sends_no_request(openai_server):
    openai_server.script("should not be used")
    model = build(openai_server, budget=SpendBudget(daily_usd=0))

    reply = await model.ainvoke("hi")
    streamed = merge([c async for c in model.astream("hi")])

    assert openai_server.requests == []
    assert reply.response_metadata["fallback_reason"] == "budget"
    assert streamed.response_metadata["fallback_reason"] == "budget"


async def test_a_zero_budget_in_settings_means_the_llm_is_never_called(openai_server):
    openai_server.script("should not be used")
    model = build_chat_model(
        llm_settings(openai_server, AGENTGRAPH_DAILY_COST_BUDGET_USD=0), fallback=offline()
    )
    reply = await model.ainvoke("hi")
    assert openai_server.requests == []
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "budget"


async def test_spending_past_the_budget_switches_to_the_fallback(openai_server):
    # 1000 input + 500 output tokens of gpt-4o-mini cost 0.00045 USD.
    usage = Usage(prompt_tokens=1000, completion_tokens=500)
    openai_server.script(Reply("first", usage=usage), Reply("second", usage=usage))
    model = build(openai_server, budget=SpendBudget(daily_usd=0.0004))

    first = await model.ainvoke("one")
    second = await model.ainvoke("two")

    assert first.content == "first"
    assert second.response_metadata["fallback_reason"] == "budget"
    assert len(openai_server.requests) == 1


# An LLM that answers 429 until the end -------------------------------------------------------


async def test_ainvoke_falls_back_when_every_request_is_rate_limited(openai_server):
    openai_server.otherwise(rate_limited())
    model = build(openai_server, AGENTGRAPH_LLM_MAX_RETRIES=2)

    reply = await model.ainvoke("hi")

    assert reply.content == "Offline: I can still help with bookings."
    assert reply.response_metadata["fallback"] is True
    assert reply.response_metadata["fallback_reason"] == "error"
    assert len(openai_server.requests) == 3  # one try plus two retries, then no more


async def test_astream_falls_back_when_every_request_is_rate_limited(openai_server):
    openai_server.otherwise(rate_limited())
    model = build(openai_server, fallback=offline("Offline stream answer."))

    merged = merge([c async for c in model.astream("hi")])

    assert merged.content == "Offline stream answer."
    assert merged.response_metadata["fallback"] is True
    assert merged.response_metadata["fallback_reason"] == "error"
    assert len(openai_server.requests) == 2  # one try plus AGENTGRAPH_LLM_MAX_RETRIES=1
