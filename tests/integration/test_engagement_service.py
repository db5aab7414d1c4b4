"""The conductor service in simulated time on real stores: modes, limits, learning,
restarts. Each test drives generated attendee traffic through the real collector."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.store.base import BaseStore

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.conductor.bandit import namespace
from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.deps import ConductorDeps
from agentgraph.engagement.conductor.event_settings import EventSettingsUpdate, save_event_settings
from agentgraph.engagement.conductor.graph import build_engagement_graph
from agentgraph.engagement.conductor.policy import RULES
from agentgraph.engagement.delivery.publisher import RecordingPublisher
from agentgraph.engagement.detection.simulation import HIGH, LOW, AudienceSimulator, Rates
from agentgraph.engagement.pending import Pending, save_pending
from agentgraph.engagement.service import EngagementService
from agentgraph.observability.metrics import REGISTRY
from agentgraph.persistence import open_persistence
from agentgraph.testing import ScriptedChatModel
from agentgraph.threads import event_thread_id
from tests.support.engagement import conductor, hand_ticked

TICK = 5.0


async def set_confidence(store: BaseStore, event_id: str, levels: dict[str, float]) -> None:
    """Posteriors so sharp that every Thompson draw lands at `levels[type]` (+-0.01)."""
    for anomaly, rules in RULES.items():
        for band in ("high", "medium", "low"):
            for audience in ("small", "medium", "large"):
                arms = {
                    kind: [
                        levels.get(kind, levels.get("*", 0.5)) * 20_000,
                        (1 - levels.get(kind, levels.get("*", 0.5))) * 20_000,
                    ]
                    for kind, _, _ in rules
                }
                await store.aput(
                    namespace(event_id), f"{anomaly}|{band}|{audience}", {"arms": arms}
                )


class Session:
    """One simulated session feeding the service tick by tick."""

    def __init__(
        self,
        service: EngagementService,
        clock: ManualClock,
        event_id: str,
        session_id: str,
        seed: int,
    ) -> None:
        self.service, self.clock = service, clock
        self.event_id, self.session_id = event_id, session_id
        self.sim = AudienceSimulator(50, seed)
        service.collector.ingest(event_id, session_id, [s for _, s in self.sim.joins(0)], "test")

    def feed(self, rates: Rates) -> None:
        signals = [s for _, s in self.sim.step(self.clock.time(), TICK, rates)]
        self.service.collector.ingest(self.event_id, self.session_id, signals, "test")


async def run(
    service: EngagementService,
    clock: ManualClock,
    sessions: list[Session],
    rates: Rates,
    seconds: float,
    until: Any = None,
) -> None:
    for _ in range(int(seconds / TICK)):
        for session in sessions:
            session.feed(rates)
        clock.advance(TICK)
        await service.tick()
        await service.drain()
        if until is not None and until():
            return


def feed_of(service: EngagementService, event_id: str) -> tuple[list[dict[str, Any]], Any]:
    queue = service.hub.subscribe(event_id)
    seen: list[dict[str, Any]] = []

    def messages(kind: str | None = None) -> list[dict[str, Any]]:
        while not queue.empty():
            seen.append(queue.get_nowait())
        return [m for m in seen if kind is None or m["type"] == kind]

    return seen, messages


async def configure(service: EngagementService, event_id: str, **changes: Any) -> None:
    await service.update_event_settings(event_id, EventSettingsUpdate(**changes))


async def test_auto_mode_executes_measures_and_learns_across_restarts(
    any_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(any_settings, clock) as service:
        await configure(service, "ev-auto", mode="AUTO")
        await set_confidence(service.store, "ev-auto", {"*": 0.9})
        _, messages = feed_of(service, "ev-auto")
        session = Session(service, clock, "ev-auto", "s1", seed=1)
        await run(service, clock, [session], HIGH, 150)
        assert messages("score") and not messages("anomaly")
        await run(service, clock, [session], LOW, 180, until=lambda: messages("intervention"))
        assert ("ev-auto", "s1") in service.registered
        decision = messages("decision")[0]
        assert decision["action"] == "execute"
        assert decision["confidence"] == pytest.approx(0.9, abs=0.01)  # the fixed level
        assert not messages("approval_request")
        intervention = messages("intervention")[0]
        assert intervention["id"] == decision["id"] and intervention["content"]
        await run(service, clock, [session], HIGH, 65, until=lambda: messages("outcome"))
        outcome = messages("outcome")[0]
        assert outcome["success"] is True and outcome["delta"] >= 5
        learned = outcome["posterior"]
        context = outcome["context"]
    async with conductor(any_settings, clock) as service:
        item = await service.store.aget(namespace("ev-auto"), context)
        assert item is not None
        assert item.value["arms"][outcome["intervention_type"]] == [
            learned["alpha"],
            learned["beta"],
        ]


async def test_semi_auto_asks_below_threshold_and_skips_on_timeout(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await set_confidence(service.store, "ev-semi", {"*": 0.6})
        _, messages = feed_of(service, "ev-semi")
        session = Session(service, clock, "ev-semi", "s1", seed=2)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
        request = messages("approval_request")[0]
        assert request["deadline"] == messages("decision")[0]["deadline"]
        assert request["deadline"] - clock.time() <= 60
        await run(service, clock, [session], LOW, 65)
        assert messages("decision")[-1]["reasoning"] == "Skipped: approval timed out."
        assert not messages("intervention")
        assert await service.resolve("ev-semi", request["id"], "approve") is False


async def test_semi_auto_executes_at_or_above_threshold(sqlite_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await set_confidence(service.store, "ev-semi2", {"*": 0.9})
        _, messages = feed_of(service, "ev-semi2")
        session = Session(service, clock, "ev-semi2", "s1", seed=3)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("intervention"))
        assert messages("intervention") and not messages("approval_request")


async def test_manual_asks_even_when_confident_and_reject_skips(sqlite_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-man", mode="MANUAL")
        await set_confidence(service.store, "ev-man", {"*": 0.99})
        _, messages = feed_of(service, "ev-man")
        session = Session(service, clock, "ev-man", "s1", seed=4)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
        request = messages("approval_request")[0]
        assert service.pending_requests("ev-man") == [request]
        assert await service.resolve("ev-man", request["id"], "reject") is True
        await service.drain()
        assert messages("decision")[-1]["reasoning"] == "Skipped: rejected by the organizer."
        assert not messages("intervention") and service.pending_requests("ev-man") == []
        assert await service.resolve("ev-man", request["id"], "approve") is False


async def test_low_confidence_is_skipped_in_any_mode(sqlite_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-low", mode="AUTO")
        await set_confidence(service.store, "ev-low", {"*": 0.2})
        _, messages = feed_of(service, "ev-low")
        session = Session(service, clock, "ev-low", "s1", seed=5)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("decision"))
        decision = messages("decision")[0]
        assert decision["action"] == "skip" and "minimum confidence" in decision["reasoning"]
        assert not messages("intervention")


async def test_hourly_cap_and_type_cooldowns_are_shared_by_an_event(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-cap", mode="AUTO", max_interventions_per_hour=2)
        await set_confidence(
            service.store,
            "ev-cap",
            {"poll": 0.95, "quiz": 0.9, "chat_prompt": 0.85, "qna_prompt": 0.8},
        )
        _, messages = feed_of(service, "ev-cap")
        sessions = [Session(service, clock, "ev-cap", f"s{i}", seed=10 + i) for i in range(3)]
        await run(service, clock, sessions, HIGH, 150)
        await run(service, clock, sessions, LOW, 240)
        executed = messages("intervention")
        assert len(executed) == 2
        assert sorted(i["intervention_type"] for i in executed) == ["poll", "quiz"]
        decisions = messages("decision")
        second = next(d for d in decisions if d["intervention_type"] == "quiz")
        assert "poll" in second["blocked"] and "cooling down" in second["blocked"]["poll"]
        capped = [d for d in decisions if d["action"] == "skip"]
        assert capped and "hourly cap reached" in capped[0]["reasoning"]


async def test_mass_exit_always_notifies_the_organizer(sqlite_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-exit", mode="MANUAL", max_interventions_per_hour=0)
        _, messages = feed_of(service, "ev-exit")
        session = Session(service, clock, "ev-exit", "s1", seed=6)
        await run(service, clock, [session], HIGH, 150)
        exodus = Rates(HIGH.chat_per_min, HIGH.poll_participation, HIGH.reactions_per_min, 90.0)
        await run(service, clock, [session], exodus, 30, until=lambda: messages("intervention"))
        assert messages("anomaly")[0]["anomaly_type"] == "mass_exit"
        notice = messages("intervention")[0]
        assert notice["intervention_type"] == "organizer_notification"
        assert "leaving" in notice["content"]["text"]
        assert "hourly cap" in messages("decision")[0]["reasoning"]


async def test_disabled_agent_watches_but_never_acts(sqlite_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        await configure(service, "ev-off", agent_enabled=False)
        _, messages = feed_of(service, "ev-off")
        session = Session(service, clock, "ev-off", "s1", seed=8)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180)
        assert messages("anomaly") and not messages("decision") and not messages("intervention")


async def test_a_pending_approval_survives_a_restart(any_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(any_settings, clock) as service:
        await configure(service, "ev-rs", mode="MANUAL")
        await set_confidence(service.store, "ev-rs", {"*": 0.9})
        _, messages = feed_of(service, "ev-rs")
        session = Session(service, clock, "ev-rs", "s1", seed=9)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
        request = messages("approval_request")[0]
    async with conductor(any_settings, clock) as service:
        assert service.pending_requests("ev-rs") == [request]
        _, messages = feed_of(service, "ev-rs")
        assert await service.resolve("ev-rs", request["id"], "approve") is True
        await service.drain()
        assert [i["id"] for i in messages("intervention")] == [request["id"]]


async def test_content_comes_from_the_model_and_sees_aggregates_only(
    sqlite_settings: Settings,
) -> None:
    answer = AIMessage(
        content='{"question": "What should we try next?", "options": ["Demo", "Q&A", "Break"]}',
        response_metadata={"model_name": "gpt-4o-mini"},
        usage_metadata={"input_tokens": 300, "output_tokens": 40, "total_tokens": 340},
    )
    model = ScriptedChatModel(responses=[answer] * 3)
    clock = ManualClock()
    async with (
        open_persistence(sqlite_settings) as persistence,
        hand_ticked(sqlite_settings, persistence, clock, seed=2, model=model) as service,
    ):
        await configure(service, "ev-llm", mode="AUTO")
        await set_confidence(service.store, "ev-llm", {"poll": 0.95, "*": 0.7})
        _, messages = feed_of(service, "ev-llm")
        session = Session(service, clock, "ev-llm", "s1", seed=12)
        await run(service, clock, [session], HIGH, 150)
        await run(service, clock, [session], LOW, 180, until=lambda: messages("intervention"))
        intervention = messages("intervention")[0]
        assert intervention["source"] == "model"
        assert intervention["content"]["options"] == ["Demo", "Q&A", "Break"]
        prompt = "\n".join(str(m.content) for m in model.calls[0])
        assert '"u1"' not in prompt and "u1," not in prompt and '"audience": 50' in prompt
        assert service.budget.spent_hour > 0


async def test_a_cycle_cut_by_a_crash_resumes_at_start_up(sqlite_settings: Settings) -> None:
    settings = sqlite_settings.model_copy(update={"engagement_min_confidence": 0.0})
    clock = ManualClock()

    class Crash(Exception):
        pass

    class DiesOnDelivery(RecordingPublisher):
        async def intervention(self, event_id: str, message: dict[str, Any]) -> None:
            raise Crash

    drop = {
        "anomaly": {
            "anomaly_type": "sudden_drop",
            "severity": "high",
            "score": 20.0,
            "baseline": 70.0,
            "magnitude": 50.0,
            "details": {},
        },
        "snapshot": {"present": 50},
        "score": 20.0,
    }
    async with open_persistence(settings) as persistence:
        await save_event_settings(
            persistence.store, "ev-up", EventSettingsUpdate(mode="AUTO"), settings
        )
        graph = build_engagement_graph().compile(
            checkpointer=persistence.checkpointer, store=persistence.store
        )
        deps = ConductorDeps.build(settings, publisher=DiesOnDelivery(), clock=clock)
        await save_pending(persistence.store, Pending("ev-up", "s1", "running", attempts=1))
        with pytest.raises(Crash):
            await graph.ainvoke(
                drop,
                {"configurable": {"thread_id": event_thread_id("ev-up", "s1")}},
                context=EngagementContext(event_id="ev-up", session_id="s1", deps=deps),
                durability="sync",
            )
    async with conductor(settings, clock) as service:
        _, messages = feed_of(service, "ev-up")
        await service.drain()
        delivered = messages("intervention")
        assert [i["id"] for i in delivered] == ["ev-up:s1:1"]
        assert service.pending[("ev-up", "s1")].kind == "outcome"


async def test_sessions_per_mode_follow_settings_saved_elsewhere(sqlite_settings: Settings) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        # Another process configured the event: only the store knows.
        await save_event_settings(
            service.store, "ev-gauge", EventSettingsUpdate(mode="MANUAL"), sqlite_settings
        )
        session = Session(service, clock, "ev-gauge", "s1", seed=13)
        await run(service, clock, [session], HIGH, 10)
        sample = REGISTRY.get_sample_value(
            "agentgraph_engagement_sessions_by_mode", {"mode": "MANUAL"}
        )
        assert sample == 1
        assert REGISTRY.get_sample_value("agentgraph_engagement_active_sessions") == 1
