"""The conductor graph on a real checkpointer and store: a crash mid-cycle resumes
from the checkpoint and never delivers an intervention twice."""

from __future__ import annotations

import random
from typing import Any

import pytest
from langgraph.types import Command

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.deps import ConductorDeps
from agentgraph.engagement.conductor.event_settings import EventSettingsUpdate, save_event_settings
from agentgraph.engagement.conductor.graph import build_engagement_graph
from agentgraph.engagement.delivery.publisher import RecordingPublisher
from agentgraph.persistence import open_persistence
from agentgraph.threads import event_thread_id

DROP = {
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


class Crash(Exception):
    """Stands in for the process dying at a chosen point."""


class CrashingPublisher(RecordingPublisher):
    def __init__(self, crash_on: str) -> None:
        super().__init__()
        self.crash_on = crash_on

    async def intervention(self, event_id: str, message: dict[str, Any]) -> None:
        if self.crash_on == "before_delivery":
            self.crash_on = ""
            raise Crash("died before delivering")
        await super().intervention(event_id, message)

    async def organizer(self, event_id: str, message: dict[str, Any]) -> None:
        if self.crash_on == "after_delivery" and message["type"] == "intervention":
            self.crash_on = ""
            raise Crash("died after delivering")
        await super().organizer(event_id, message)


@pytest.mark.parametrize("crash_on", ["before_delivery", "after_delivery"])
async def test_crash_mid_act_resumes_without_delivering_twice(
    any_settings: Settings, crash_on: str
) -> None:
    settings = any_settings.model_copy(update={"engagement_min_confidence": 0.0})
    clock, publisher = ManualClock(), CrashingPublisher(crash_on)
    config: Any = {"configurable": {"thread_id": event_thread_id("ev-crash", "s1")}}
    deps = ConductorDeps.build(settings, publisher=publisher, clock=clock, rng=random.Random(3))
    context = EngagementContext(event_id="ev-crash", session_id="s1", deps=deps)
    async with open_persistence(settings) as persistence:
        await save_event_settings(
            persistence.store, "ev-crash", EventSettingsUpdate(mode="AUTO"), settings
        )
        graph = build_engagement_graph().compile(
            checkpointer=persistence.checkpointer, store=persistence.store
        )
        with pytest.raises(Crash):
            await graph.ainvoke(DROP, config, context=context, durability="sync")
    # A new process: same databases, fresh graph and deps.
    deps = ConductorDeps.build(settings, publisher=publisher, clock=clock, rng=random.Random(3))
    context = EngagementContext(event_id="ev-crash", session_id="s1", deps=deps)
    async with open_persistence(settings) as persistence:
        graph = build_engagement_graph().compile(
            checkpointer=persistence.checkpointer, store=persistence.store
        )
        result = await graph.ainvoke(None, config, context=context, durability="sync")
        assert result["__interrupt__"][0].value["kind"] == "outcome"
        assert len(publisher.interventions) == 1
        decision = publisher.of_type("decision")
        assert len({d["id"] for d in decision}) == 1
        clock.advance(60)
        final = await graph.ainvoke(Command(resume={"score": 55.0}), config, context=context)
        assert final["status"] == "learned" and final["outcome"]["success"] is True
        assert len(publisher.interventions) == 1


async def test_each_anomaly_starts_a_fresh_cycle_on_the_session_thread(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings.model_copy(update={"engagement_min_confidence": 0.0})
    clock, publisher = ManualClock(), RecordingPublisher()
    config: Any = {"configurable": {"thread_id": event_thread_id("ev-cyc", "s1")}}
    deps = ConductorDeps.build(settings, publisher=publisher, clock=clock, rng=random.Random(1))
    context = EngagementContext(event_id="ev-cyc", session_id="s1", deps=deps)
    async with open_persistence(settings) as persistence:
        await save_event_settings(
            persistence.store,
            "ev-cyc",
            EventSettingsUpdate(mode="MANUAL"),
            settings,
        )
        graph = build_engagement_graph().compile(
            checkpointer=persistence.checkpointer, store=persistence.store
        )
        first = await graph.ainvoke(DROP, config, context=context)
        request = first["__interrupt__"][0].value
        assert request["kind"] == "approval" and request["id"] == "ev-cyc:s1:1"
        done = await graph.ainvoke(Command(resume={"decision": "reject"}), config, context=context)
        assert done["status"] == "rejected" and done["intervention"] is None
        second = await graph.ainvoke(DROP, config, context=context)
        assert second["__interrupt__"][0].value["id"] == "ev-cyc:s1:2"
        assert second["decision"]["id"] == "ev-cyc:s1:2" and second["approval"] is None
