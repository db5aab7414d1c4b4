"""`langgraph dev` serves the engagement graph (named `engagement` in langgraph.json),
with its dependencies built from the settings, and refuses an empty input."""

from __future__ import annotations

import pytest
from langgraph_sdk import get_client

from agentgraph.engagement.conductor.bandit import namespace
from agentgraph.engagement.conductor.event_settings import SETTINGS_NAMESPACE
from tests.e2e.test_langgraph_dev import dev_server  # noqa: F401  (the shared fixture)

INPUT = {
    "anomaly": {
        "anomaly_type": "sudden_drop",
        "severity": "high",
        "score": 20.0,
        "baseline": 70.0,
        "magnitude": 50.0,
        "details": {},
    },
    "snapshot": {"present": 50, "chat_per_min": 2.0},
    "score": 20.0,
}
# Posteriors so sharp that every Thompson draw lands within 0.01 of these levels.
LEVELS = {"poll": 0.95, "quiz": 0.5, "chat_prompt": 0.3}


async def _fix_confidence(client, event_id: str) -> None:
    for band in ("high", "medium", "low"):
        for audience in ("small", "medium", "large"):
            arms = {kind: [level * 20_000, (1 - level) * 20_000] for kind, level in LEVELS.items()}
            await client.store.put_item(
                list(namespace(event_id)), f"sudden_drop|{band}|{audience}", {"arms": arms}
            )


@pytest.mark.slow
async def test_engagement_graph_runs_a_cycle_on_langgraph_dev(dev_server: str) -> None:  # noqa: F811
    client = get_client(url=dev_server)
    assert await client.assistants.search(graph_id="engagement"), "graph 'engagement' missing"
    # SEMI_AUTO (the default) executes a poll drawn at 0.95, above the 0.75 threshold.
    await _fix_confidence(client, "studio-ev")
    thread = await client.threads.create()
    state = await client.runs.wait(
        thread["thread_id"], "engagement", input=INPUT,
        context={"event_id": "studio-ev", "session_id": "s1"},
    )  # fmt: skip
    decision = state["decision"]
    assert decision["id"] == "studio-ev:s1:1"
    assert (decision["mode"], decision["action"]) == ("SEMI_AUTO", "execute")
    assert decision["intervention_type"] == "poll"
    assert decision["confidence"] == pytest.approx(0.95, abs=0.01)
    assert state["status"] == "executed" and state["approval"] == "auto"
    assert state["intervention"]["intervention_type"] == "poll"
    # MANUAL asks the organizer: the cycle waits at the gate, decided, nothing executed.
    await _fix_confidence(client, "studio-man")
    await client.store.put_item(list(SETTINGS_NAMESPACE), "studio-man", {"mode": "MANUAL"})
    manual = await client.threads.create()
    asked = await client.runs.wait(
        manual["thread_id"], "engagement", input=INPUT,
        context={"event_id": "studio-man", "session_id": "s1"},
    )  # fmt: skip
    assert (asked["decision"]["action"], asked["decision"]["intervention_type"]) == ("ask", "poll")
    assert asked["status"] == "decided" and asked["intervention"] is None
    # Studio's default form sends an empty input: refused, with what is needed.
    empty = await client.threads.create()
    answer = await client.runs.wait(empty["thread_id"], "engagement", input={}, raise_error=False)
    error = answer["__error__"]
    assert error["error"] == "ValueError" and "anomaly.anomaly_type" in error["message"]
