"""Hostile input and bounded resources: frames that used to raise, settings that used
to poison every cycle, presence and records that grew without end, spend that did
not count, a model call that could hang."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.store.memory import InMemoryStore
from pydantic import ValidationError

from agentgraph.clock import ManualClock
from agentgraph.engagement.conductor.content import ContentWriter
from agentgraph.engagement.conductor.event_settings import EventSettings, EventSettingsUpdate
from agentgraph.engagement.delivery import interventions
from agentgraph.engagement.delivery.publisher import RecordingPublisher
from agentgraph.engagement.signals.parsing import Signal, parse_frame, parse_redis_payload
from agentgraph.engagement.signals.windows import SessionWindows
from agentgraph.models.budget import SpendBudget, StoreSpend
from agentgraph.testing import ScriptedChatModel

FACTS = {"session_id": "s1", "anomaly_type": "sudden_drop", "audience": 50}


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": [], "user": "a"}',
        '{"type": {}, "user": "a"}',
        '[{"type": ["chat"], "user": "a"}]',
        "[" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
)
def test_non_string_types_and_deep_nesting_are_problems_not_errors(frame: str) -> None:
    signals, problems = parse_frame(frame)
    assert signals == [] and len(problems) == 1


def test_redis_payloads_of_any_shape_are_counted_never_raised() -> None:
    counted = [
        parse_redis_payload("ev", payload)
        for payload in ({"session_id": "s1", "type": {}}, [None, 1], {"session_id": ["x"]}, "x")
    ]
    assert counted == [([("s1", [])], 1), ([], 2), ([], 1), ([], 1)]
    batches, malformed = parse_redis_payload("ev", {"session_id": "s1", "type": "chat", "user": 1})
    assert batches == [("s1", [Signal("chat", "1")])] and malformed == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"cooldowns": {"poll": NaN}}',
        '{"cooldowns": {"poll": Infinity}}',
        '{"auto_approve_threshold": NaN}',
        '{"auto_approve_threshold": -Infinity}',
    ],
)
def test_settings_reject_nan_and_infinity(body: str) -> None:
    with pytest.raises(ValidationError):
        EventSettingsUpdate.model_validate(json.loads(body))
    with pytest.raises(ValidationError):
        EventSettings.model_validate(json.loads(body))


def test_presence_is_capped_and_silent_attendees_expire() -> None:
    windows = SessionWindows(60, max_present=100, presence_idle_seconds=600)
    for i in range(1000):
        windows.add(Signal("join", f"u{i}"), at=float(i))
    assert windows.present_count == 100
    assert windows.snapshot(1000).present == 100
    # The most recent attendees are the ones kept; silence past the horizon forgets them.
    windows.add(Signal("chat", "u999"), at=1500.0)
    assert windows.snapshot(1650).present == 1 and windows.present_count == 1


async def test_old_executed_records_are_deleted_when_new_ones_are_written() -> None:
    store, publisher = InMemoryStore(), RecordingPublisher()
    old = {"id": "ev:s1:1", "intervention_type": "poll", "content": {}, "executed_at": 0.0}
    await interventions.deliver_once(store, publisher, "ev", old)
    later = interventions.EXECUTED_KEEP_SECONDS + 10
    new = {"id": "ev:s1:2", "intervention_type": "poll", "content": {}, "executed_at": later}
    await interventions.deliver_once(store, publisher, "ev", new)
    assert await interventions.recorded(store, "ev", "ev:s1:1") is None
    assert await interventions.recorded(store, "ev", "ev:s1:2") is not None


async def test_unpriced_models_are_charged_the_default_price() -> None:
    answer = AIMessage(
        content='{"question": "Next?", "options": ["A", "B"]}',
        response_metadata={"model_name": "my-local-llama"},
        usage_metadata={"input_tokens": 600_000, "output_tokens": 400_000, "total_tokens": 1e6},
    )
    budget = SpendBudget(hourly_usd=20, daily_usd=100, clock=ManualClock())
    writer = ContentWriter(ScriptedChatModel(responses=[answer]), budget, default_price_per_mtok=3)
    _, source = await writer.write("poll", FACTS, seed=0)
    assert source == "model" and budget.spent_hour == pytest.approx(3.0)


async def test_llm_spend_in_the_store_survives_a_new_budget() -> None:
    store, clock = InMemoryStore(), ManualClock()
    first = SpendBudget(hourly_usd=1.0, daily_usd=100, clock=clock, ledger=StoreSpend(store))
    await first.arecord(0.6)
    await first.arecord(0.6)
    restarted = SpendBudget(hourly_usd=1.0, daily_usd=100, clock=clock, ledger=StoreSpend(store))
    assert not await restarted.aallows()
    assert restarted.spent_hour == pytest.approx(1.2) and restarted.spent_day == pytest.approx(1.2)
    clock.advance(3600)
    assert await restarted.aallows() and restarted.spent_day == pytest.approx(1.2)


async def test_a_model_slower_than_the_timeout_falls_back_to_a_template() -> None:
    called, gate = asyncio.Event(), asyncio.Event()

    class Hangs(ScriptedChatModel):
        async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
            called.set()
            await gate.wait()  # never opened: only the writer's timeout ends the wait
            return await super()._agenerate(*args, **kwargs)

    writer = ContentWriter(
        Hangs(responses=[AIMessage(content="{}")]),
        SpendBudget(hourly_usd=20, daily_usd=100, clock=ManualClock()),
        timeout_seconds=0.05,
    )
    content, source = await asyncio.wait_for(writer.write("poll", FACTS, seed=0), 30)
    assert called.is_set() and not gate.is_set()
    assert source == "template" and content["question"]
