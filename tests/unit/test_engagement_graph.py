"""The conductor graph from its uncompiled builder, compiled per test with InMemorySaver:
module-level typed nodes, dependencies from the run's context, refusal of empty input."""

from __future__ import annotations

import random
import typing
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import Runtime
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.conductor import nodes
from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.deps import ConductorDeps, standalone_deps
from agentgraph.engagement.conductor.event_settings import (
    EventSettingsUpdate,
    save_event_settings,
)
from agentgraph.engagement.conductor.graph import build_engagement_graph
from agentgraph.engagement.conductor.state import EngagementState
from agentgraph.engagement.delivery.publisher import RecordingPublisher
from agentgraph.threads import event_thread_id

DROP: Any = {
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
NODES = ("perceive", "decide", "approval_gate", "act", "measure_outcome", "learn")


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(
        AGENTGRAPH_DATA_DIR=tmp_path, AGENTGRAPH_OFFLINE=True, ENGAGEMENT_MIN_CONFIDENCE=0.0
    )


def test_nodes_are_module_level_functions_typed_with_the_runtime_context() -> None:
    builder = build_engagement_graph()
    assert tuple(builder.nodes) == NODES
    for name in NODES:
        node = getattr(nodes, name)
        assert node.__qualname__ == name, "a node is a top-level function, not a closure"
        hints = typing.get_type_hints(node)
        assert hints["state"] is EngagementState
        assert hints["runtime"] == Runtime[EngagementContext]


def test_studio_sees_only_the_plain_context_fields_and_gets_standalone_deps() -> None:
    graph = build_engagement_graph().compile(checkpointer=InMemorySaver())
    schema = graph.get_context_jsonschema()
    assert schema is not None and set(schema["properties"]) == {"event_id", "session_id"}
    # What LangGraph does with a context sent as a plain dict:
    context = EngagementContext(**{"event_id": "ev", "session_id": "s1"})
    assert context.deps is standalone_deps()
    assert "deps" not in repr(context)


async def test_a_cycle_runs_on_deps_from_the_context(settings: Settings) -> None:
    store, publisher, clock = InMemoryStore(), RecordingPublisher(), ManualClock()
    await save_event_settings(store, "ev", EventSettingsUpdate(mode="AUTO"), settings)
    deps = ConductorDeps.build(settings, publisher=publisher, clock=clock, rng=random.Random(3))
    graph = build_engagement_graph().compile(checkpointer=InMemorySaver(), store=store)
    config: Any = {"configurable": {"thread_id": event_thread_id("ev", "s1")}}
    context = EngagementContext(event_id="ev", session_id="s1", deps=deps)
    paused = await graph.ainvoke(DROP, config, context=context)
    pause = paused["__interrupt__"][0].value
    assert pause["kind"] == "outcome" and pause["id"] == "ev:s1:1"
    assert pause["due"] == clock.time() + settings.engagement_outcome_delay_seconds
    assert paused["status"] == "executed" and paused["approval"] == "auto"
    # Random(3)'s Beta(1, 1) draws for a sudden drop's candidates: quiz wins.
    (decision,) = publisher.of_type("decision")
    assert decision["action"] == "execute" and decision["intervention_type"] == "quiz"
    assert decision["candidates"] == {"poll": 0.7145, "quiz": 0.958, "chat_prompt": 0.2238}
    assert decision["confidence"] == 0.958
    assert [(m["id"], m["intervention_type"]) for _, m in publisher.interventions] == [
        ("ev:s1:1", "quiz")
    ]
    clock.advance(60)
    done = await graph.ainvoke(Command(resume={"score": 40.0}), config, context=context)
    assert done["status"] == "learned" and done["outcome"]["success"] is True
    assert publisher.of_type("outcome")[0]["delta"] == 20.0


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "anomaly.anomaly_type"),
        ({"anomaly": {"severity": "high"}, "snapshot": {"present": 5}}, "anomaly.anomaly_type"),
        ({"anomaly": {"anomaly_type": "drop"}, "snapshot": {"present": 5}}, "'drop'"),
        ({"anomaly": {"anomaly_type": "sudden_drop"}, "score": 20.0}, "snapshot"),
    ],
)
async def test_an_input_without_an_anomaly_or_a_snapshot_is_refused(
    settings: Settings, given: dict[str, Any], named: str
) -> None:
    publisher = RecordingPublisher()
    deps = ConductorDeps.build(settings, publisher=publisher, clock=ManualClock())
    graph = build_engagement_graph().compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    config: Any = {"configurable": {"thread_id": event_thread_id("ev", "s1")}}
    context = EngagementContext(event_id="ev", session_id="s1", deps=deps)
    with pytest.raises(ValueError, match=r"engagement graph|unknown anomaly type") as refused:
        await graph.ainvoke(given, config, context=context)
    assert named in str(refused.value)
    assert publisher.organizer_messages == [] and publisher.interventions == []
