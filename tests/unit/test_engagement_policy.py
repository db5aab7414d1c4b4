"""Gate per mode, cooldowns and hourly cap, LLM budgets and content writing."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage

from agentgraph.clock import ManualClock
from agentgraph.engagement.conductor.content import ContentWriter
from agentgraph.engagement.conductor.policy import candidates, gate, limit_reason
from agentgraph.models.budget import SpendBudget
from agentgraph.testing import ScriptedChatModel

HOUR_START = 1_699_995_600.0  # 2023-11-14T21:00:00Z


@pytest.mark.parametrize(
    ("mode", "confidence", "expected"),
    [
        ("AUTO", 0.55, "execute"),
        ("AUTO", 0.49, "skip"),
        ("SEMI_AUTO", 0.75, "execute"),
        ("SEMI_AUTO", 0.82, "execute"),
        ("SEMI_AUTO", 0.68, "ask"),
        ("SEMI_AUTO", 0.3, "skip"),
        ("MANUAL", 0.99, "ask"),
        ("MANUAL", 0.2, "skip"),
    ],
)
def test_gate_follows_the_mode(mode: str, confidence: float, expected: str) -> None:
    assert gate(mode, confidence, threshold=0.75, min_confidence=0.5) == expected  # type: ignore[arg-type]


def test_spikes_need_no_intervention_and_drops_have_candidates() -> None:
    assert candidates("spike") == []
    assert candidates("sudden_drop")[0] == "poll"


def test_cooldown_blocks_the_same_type_only() -> None:
    history = [{"type": "poll", "at": 1000.0, "id": "a"}]
    cooldowns = {"poll": 300.0, "quiz": 300.0}
    assert "cooling down" in (limit_reason(history, "poll", 1100.0, cooldowns, 3) or "")
    assert limit_reason(history, "quiz", 1100.0, cooldowns, 3) is None
    assert limit_reason(history, "poll", 1300.0, cooldowns, 3) is None


def test_hourly_cap_counts_the_last_hour() -> None:
    history = [
        {"type": t, "at": at, "id": str(at)}
        for t, at in (("poll", 0.0), ("quiz", 1000.0), ("chat_prompt", 2000.0))
    ]
    reason = limit_reason(history, "qna_prompt", 3000.0, {}, 3)
    assert reason is not None and "hourly cap" in reason
    assert limit_reason(history, "qna_prompt", 3601.0, {}, 3) is None
    assert limit_reason([], "poll", 0.0, {}, 0) is not None


def test_budget_resets_each_hour_and_each_day() -> None:
    clock = ManualClock(HOUR_START)
    budget = SpendBudget(hourly_usd=20, daily_usd=30, clock=clock)
    budget.record(20.0)
    assert not budget.allows()
    clock.advance(3600)
    assert budget.allows() and budget.spent_hour == 0 and budget.spent_day == 20
    budget.record(10.0)
    assert not budget.allows()  # the day is spent
    clock.advance(3 * 3600)  # next UTC day
    assert budget.allows() and budget.spent_day == 0
    assert not SpendBudget(hourly_usd=0, daily_usd=100, clock=clock).allows()


FACTS = {
    "session_id": "s1",
    "anomaly_type": "sudden_drop",
    "severity": "high",
    "score": 20,
    "baseline": 70,
    "exits": 0,
    "audience": 50,
}


async def test_templates_without_a_model() -> None:
    writer = ContentWriter(None, SpendBudget(hourly_usd=20, daily_usd=100, clock=ManualClock()))
    content, source = await writer.write("poll", FACTS, seed=1)
    assert source == "template" and content["question"] and len(content["options"]) >= 2
    note, _ = await writer.write("organizer_notification", FACTS, seed=0)
    assert "sudden_drop" in note["text"] and "s1" in note["text"]


async def test_model_writes_content_and_its_cost_is_counted() -> None:
    answer = AIMessage(
        content='{"question": "Which demo next?", "options": ["A", "B"]}',
        response_metadata={"model_name": "gpt-4o-mini"},
        usage_metadata={"input_tokens": 1_000_000, "output_tokens": 0, "total_tokens": 1_000_000},
    )
    model = ScriptedChatModel(responses=[answer])
    budget = SpendBudget(hourly_usd=20, daily_usd=100, clock=ManualClock())
    content, source = await ContentWriter(model, budget).write("poll", FACTS, seed=0)
    assert source == "model" and content == {"question": "Which demo next?", "options": ["A", "B"]}
    assert budget.spent_hour > 0
    prompt = " ".join(str(m.content) for m in model.calls[0])
    assert "s1" in prompt and "user" not in prompt.lower().replace("users", "")


async def test_spent_budget_and_model_errors_fall_back_to_templates() -> None:
    clock = ManualClock()
    spent = SpendBudget(hourly_usd=1, daily_usd=100, clock=clock)
    spent.record(1.0)
    model = ScriptedChatModel(responses=[])  # any call would raise ScriptExhausted
    content, source = await ContentWriter(model, spent).write("quiz", FACTS, seed=0)
    assert source == "template" and model.calls == []
    content, source = await ContentWriter(
        model, SpendBudget(hourly_usd=20, daily_usd=100, clock=clock)
    ).write("chat_prompt", FACTS, seed=0)
    assert source == "template" and content["text"]
    bad = ScriptedChatModel(responses=[AIMessage(content="Sure! Here is a poll: ...")])
    _, source = await ContentWriter(
        bad, SpendBudget(hourly_usd=20, daily_usd=100, clock=clock)
    ).write("poll", FACTS, seed=0)
    assert source == "template"
