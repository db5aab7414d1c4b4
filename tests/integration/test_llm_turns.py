"""Assistant turns on the real LLM path (ChatOpenAI over HTTP to a local OpenAI-compatible
server): tool calls and handoffs from the wire, usage and cost recorded per turn, and the
offline fallback answering when the LLM keeps failing."""

from __future__ import annotations

from agentgraph.config import Settings
from tests.support.openai_server import (
    FakeOpenAIServer,
    HttpError,
    Reply,
    ToolCall,
    ToolCalls,
    Usage,
    rate_limited,
)

ALICE = "+250788000001"
# Model calls of a balance question answered offline: triage hands off to payment,
# payment calls check_balance, then relays its result.
FALLBACKS = 3


def llm_settings(base: Settings, server: FakeOpenAIServer) -> Settings:
    return base.model_copy(
        update={
            "offline": False,
            "openai_base_url": server.base_url,
            "model": "gpt-4o-mini",
            "llm_max_retries": 1,
            "llm_timeout_seconds": 2.0,
        }
    )


async def test_llm_turn_calls_tools_and_records_usage_and_cost(
    sqlite_settings, openai_server, open_seeded
):
    openai_server.script(
        ToolCalls([ToolCall("transfer_to_payment", {"reason": "balance"})], usage=Usage(1000, 20)),
        rate_limited(),
        ToolCalls([ToolCall("check_balance", {})], usage=Usage(1200, 10)),
        Reply("You have 50,000 RWF.", usage=Usage(1300, 12)),
    )
    async with open_seeded(llm_settings(sqlite_settings, openai_server)) as assistant:
        result = await assistant.send("how much do I have?", user=ALICE, tenant="easymo")
    assert result.replies == ["You have 50,000 RWF."]
    assert result.agent == "payment"
    assert result.usage["llm_calls"] == 3
    assert result.usage["input_tokens"] == 3500
    assert result.usage["output_tokens"] == 42
    # gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output.
    assert abs(result.usage["cost_usd"] - (3500 * 0.15 + 42 * 0.60) / 1e6) < 1e-9
    # Each agent saw only its own tools on the wire.
    triage_tools = {t["function"]["name"] for t in openai_server.requests[0]["tools"]}
    payment_tools = {t["function"]["name"] for t in openai_server.requests[-1]["tools"]}
    assert triage_tools == {"transfer_to_booking", "transfer_to_payment", "transfer_to_support"}
    assert "transfer_money" in payment_tools and "search_trips" not in payment_tools
    assert len(openai_server.requests) == 4  # the 429 was retried once


async def test_failing_llm_falls_back_to_the_offline_model(
    sqlite_settings, openai_server, open_seeded
):
    openai_server.script(*[HttpError(500) for _ in range(20)])
    async with open_seeded(llm_settings(sqlite_settings, openai_server)) as assistant:
        result = await assistant.send("what is my balance?", user=ALICE, tenant="easymo")
    assert not result.error
    assert result.replies == ["Your wallet balance is 50,000 RWF."]
    assert result.usage["fallbacks"] == FALLBACKS
    assert result.usage["cost_usd"] == 0
    assert len(openai_server.requests) == 2 * FALLBACKS  # each call: one try, one retry


async def test_an_llm_rate_limited_until_the_end_is_answered_offline(
    sqlite_settings, openai_server, open_seeded
):
    openai_server.otherwise(rate_limited())
    async with open_seeded(llm_settings(sqlite_settings, openai_server)) as assistant:
        result = await assistant.send("what is my balance?", user=ALICE, tenant="easymo")
    assert not result.error
    assert result.replies == ["Your wallet balance is 50,000 RWF."]
    assert result.agent == "payment"
    assert result.usage["fallbacks"] == FALLBACKS
    assert result.usage["llm_calls"] == FALLBACKS  # every call counted, all answered offline
    assert result.usage["cost_usd"] == 0
    assert len(openai_server.requests) == 2 * FALLBACKS


async def test_spent_budget_never_calls_the_llm(sqlite_settings, openai_server, open_seeded):
    settings = llm_settings(sqlite_settings, openai_server).model_copy(
        update={"daily_cost_budget_usd": 0.0}
    )
    async with open_seeded(settings) as assistant:
        result = await assistant.send("what is my balance?", user=ALICE, tenant="easymo")
    assert result.replies == ["Your wallet balance is 50,000 RWF."]
    assert openai_server.requests == []
