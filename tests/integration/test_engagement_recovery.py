"""The conductor where it used to lose or duplicate work: crashes inside `act`, after an
approval, after learning; mass exits while a cycle waits; the outcome's baseline;
organizer notices on the attendee channel; state of idle sessions; a dead loop."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from langgraph.types import Command

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.conductor.bandit import namespace
from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.deps import ConductorDeps
from agentgraph.engagement.conductor.event_settings import EventSettingsUpdate, save_event_settings
from agentgraph.engagement.conductor.graph import build_engagement_graph
from agentgraph.engagement.conductor.policy import prior
from agentgraph.engagement.delivery.publisher import RecordingPublisher
from agentgraph.engagement.detection.simulation import HIGH, LOW, Rates
from agentgraph.persistence import open_persistence
from agentgraph.threads import event_thread_id
from tests.integration.test_engagement_graph import DROP
from tests.integration.test_engagement_service import (
    Session,
    configure,
    feed_of,
    run,
    set_confidence,
)
from tests.support.engagement import conductor

DROP_INPUT: Any = DROP
EXIT: Any = {
    **DROP_INPUT,
    "anomaly": {**DROP_INPUT["anomaly"], "anomaly_type": "mass_exit", "detected_at": 1.0},
}


class Crash(Exception):
    """Stands in for the process dying at a chosen point."""


@pytest.mark.parametrize("failing_write", ["executed", "history"])
async def test_a_crash_inside_act_still_delivers_the_intervention_once(
    any_settings: Settings, failing_write: str
) -> None:
    settings = any_settings.model_copy(update={"engagement_min_confidence": 0.0})
    clock, publisher = ManualClock(), RecordingPublisher()
    config: Any = {"configurable": {"thread_id": event_thread_id("ev-act", "s1")}}
    deps = ConductorDeps.build(settings, publisher=publisher, clock=clock, rng=random.Random(3))
    context = EngagementContext(event_id="ev-act", session_id="s1", deps=deps)
    async with open_persistence(settings) as persistence:
        store = persistence.store
        await save_event_settings(store, "ev-act", EventSettingsUpdate(mode="AUTO"), settings)
        real_put = store.aput
        armed = {"on": True}

        async def dies_once(ns: tuple[str, ...], key: str, value: Any, *a: Any, **k: Any) -> Any:
            if armed["on"] and ns[:2] == ("engagement", failing_write):
                armed["on"] = False
                raise Crash(f"died writing {failing_write}")
            return await real_put(ns, key, value, *a, **k)

        store.aput = dies_once  # type: ignore[method-assign,assignment]
        graph = build_engagement_graph().compile(checkpointer=persistence.checkpointer, store=store)
        with pytest.raises(Crash):
            await graph.ainvoke(DROP_INPUT, config, context=context, durability="sync")
        result = await graph.ainvoke(None, config, context=context, durability="sync")
        assert result["__interrupt__"][0].value["kind"] == "outcome"
        assert [m["id"] for _, m in publisher.interventions] == ["ev-act:s1:1"]
        assert not [d for d in publisher.of_type("decision") if d["action"] == "skip"]


async def test_learning_counts_an_outcome_once_when_rerun_after_a_crash(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings.model_copy(update={"engagement_min_confidence": 0.0})
    clock = ManualClock()

    class DiesAfterLearning(RecordingPublisher):
        armed = True

        async def organizer(self, event_id: str, message: dict[str, Any]) -> None:
            if message["type"] == "outcome" and self.armed:
                self.armed = False
                raise Crash("died after the posterior was written")
            await super().organizer(event_id, message)

    publisher = DiesAfterLearning()
    config: Any = {"configurable": {"thread_id": event_thread_id("ev-learn", "s1")}}
    deps = ConductorDeps.build(settings, publisher=publisher, clock=clock, rng=random.Random(3))
    context = EngagementContext(event_id="ev-learn", session_id="s1", deps=deps)
    async with open_persistence(settings) as persistence:
        store = persistence.store
        await save_event_settings(store, "ev-learn", EventSettingsUpdate(mode="AUTO"), settings)
        graph = build_engagement_graph().compile(checkpointer=persistence.checkpointer, store=store)
        first = await graph.ainvoke(DROP_INPUT, config, context=context, durability="sync")
        kind = first["intervention"]["intervention_type"]
        with pytest.raises(Crash):
            await graph.ainvoke(Command(resume={"score": 60.0}), config, context=context)
        done = await graph.ainvoke(None, config, context=context, durability="sync")
        assert done["status"] == "learned"
        item = await store.aget(namespace("ev-learn"), first["context_key"])
        assert item is not None
        alpha, beta = item.value["arms"][kind]
        outcome = publisher.of_type("outcome")[0]
        assert [alpha, beta] == [outcome["posterior"]["alpha"], outcome["posterior"]["beta"]]
        # One success on top of the prior, not two.
        prior_alpha, prior_beta = prior("sudden_drop", kind)
        assert (alpha, beta) == (prior_alpha + 1, prior_beta)


async def test_an_approval_survives_a_crash_right_after_it_was_given(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-ap", mode="MANUAL")
        await set_confidence(service.store, "ev-ap", {"*": 0.9})
        _, messages = feed_of(service, "ev-ap")
        session = Session(service, clock, "ev-ap", "s1", seed=9)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
        request = messages("approval_request")[0]

        async def process_dies(*args: Any, **kwargs: Any) -> Any:
            raise asyncio.CancelledError

        service.graph.ainvoke = process_dies  # type: ignore[method-assign]
        assert await service.resolve("ev-ap", request["id"], "approve") is True
        await service.drain()
    async with conductor(sqlite_settings, clock) as service:
        _, messages = feed_of(service, "ev-ap")
        await service.drain()
        assert [i["id"] for i in messages("intervention")] == [request["id"]]
        assert not messages("approval_request") and service.pending_requests("ev-ap") == []


async def test_mass_exit_notifies_the_organizer_while_an_approval_is_pending(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-px", mode="MANUAL")
        await set_confidence(service.store, "ev-px", {"*": 0.9})
        _, messages = feed_of(service, "ev-px")
        session = Session(service, clock, "ev-px", "s1", seed=3)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
        assert service.pending[("ev-px", "s1")].kind == "approval"
        exodus = Rates(LOW.chat_per_min, LOW.poll_participation, LOW.reactions_per_min, 90.0)
        exited = lambda: any(a["anomaly_type"] == "mass_exit" for a in messages("anomaly"))  # noqa: E731
        await run(service, clock, [session], exodus, 30, until=exited)
        await run(service, clock, [session], exodus, 10)
        notices = [
            i
            for i in messages("intervention")
            if i["intervention_type"] == "organizer_notification"
        ]
        assert len(notices) == 1 and "leaving" in notices[0]["content"]["text"]


async def test_organizer_notifications_never_reach_the_attendee_channel(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings.model_copy(update={"engagement_min_confidence": 0.0})
    publisher = RecordingPublisher()
    async with open_persistence(settings) as persistence:
        await save_event_settings(
            persistence.store, "ev-note", EventSettingsUpdate(mode="MANUAL"), settings
        )
        graph = build_engagement_graph().compile(
            checkpointer=persistence.checkpointer, store=persistence.store
        )
        deps = ConductorDeps.build(settings, publisher=publisher, clock=ManualClock())
        await graph.ainvoke(
            EXIT,
            {"configurable": {"thread_id": event_thread_id("ev-note", "s1")}},
            context=EngagementContext(event_id="ev-note", session_id="s1", deps=deps),
        )
    organizer = [m["intervention_type"] for m in publisher.of_type("intervention")]
    assert organizer == ["organizer_notification"]
    assert publisher.interventions == []


async def test_the_outcome_compares_the_level_at_execution_with_the_level_after(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-base", mode="MANUAL")
        await set_confidence(service.store, "ev-base", {"*": 0.9})
        _, messages = feed_of(service, "ev-base")
        session = Session(service, clock, "ev-base", "s1", seed=4)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
        detected = messages("decision")[0]
        # The organizer takes 50 s while the room recovers on its own.
        await run(service, clock, [session], HIGH, 50)
        level = service.collector.current_level("ev-base", "s1")
        assert level is not None
        request = messages("approval_request")[0]
        assert await service.resolve("ev-base", request["id"], "approve") is True
        await service.drain()
        assert messages("intervention")
        await run(service, clock, [session], HIGH, 65, until=lambda: messages("outcome"))
        outcome = messages("outcome")[0]
        assert outcome["score_before"] == pytest.approx(level)
        assert outcome["score_before"] > float(detected["reasoning"].split("score ")[1][:2]) + 10
        recent = list(service.collector._sessions[("ev-base", "s1")].recent)
        assert outcome["score_after"] == pytest.approx(sorted(recent)[1])


async def test_idle_sessions_and_events_are_forgotten(sqlite_settings: Settings) -> None:
    settings = sqlite_settings.model_copy(update={"engagement_session_idle_seconds": 30.0})
    clock = ManualClock()
    async with conductor(settings, clock) as service:
        await configure(service, "ev-idle", mode="AUTO")
        await set_confidence(service.store, "ev-idle", {"*": 0.9})
        _, messages = feed_of(service, "ev-idle")
        session = Session(service, clock, "ev-idle", "s1", seed=1)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("intervention"))
        await run(service, clock, [session], LOW, 65, until=lambda: messages("outcome"))
        for event_id in (f"ev-read-{i}" for i in range(20)):
            await service.event_settings(event_id)
        assert ("ev-idle", "s1") in service.registered and "ev-idle" in service._modes
        assert len(service._modes) == 1
        service.hub.unsubscribe("ev-idle", next(iter(service.hub._queues["ev-idle"])))
        # Silence: the session goes idle, its open cycle (if any) measures and ends.
        for _ in range(40):
            clock.advance(5)
            await service.tick()
            await service.drain()
        assert service.pending == {}
        assert service.collector.sessions() == [] and service.registered == set()
        assert service._modes == {} and service.cycles.locks == {}
        assert service.ownership.lock_count == 0 and service.ownership.held == set()


async def test_health_reports_a_dead_background_loop(sqlite_settings: Settings) -> None:
    async with conductor(sqlite_settings, ManualClock()) as service:
        assert "active sessions" in service.health()

        async def dies() -> None:
            raise RuntimeError("boom")

        task = asyncio.create_task(dies(), name="engagement-redis")
        await asyncio.gather(task, return_exceptions=True)
        service._loops.append(task)
        with pytest.raises(RuntimeError, match="engagement-redis"):
            service.health()
        service._loops.remove(task)
