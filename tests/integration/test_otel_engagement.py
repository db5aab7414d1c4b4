"""The conductor's ticks as OpenTelemetry spans: one `engagement.tick` span per session
and tick, a trace of its own, naming the event, the session, the score and the
anomalies found, exported over OTLP/HTTP to a local receiver."""

from __future__ import annotations

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.detection.simulation import HIGH, LOW, AudienceSimulator
from agentgraph.observability.otel import open_otel
from agentgraph.persistence import open_persistence
from tests.support.engagement import hand_ticked
from tests.support.otlp_receiver import OtlpReceiver

TICK = 5.0


async def test_every_session_tick_is_a_span_with_its_score_and_anomalies(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    settings = sqlite_settings.model_copy(update={"engagement_tick_seconds": TICK})
    with OtlpReceiver() as receiver:
        async with (
            open_otel(
                sqlite_settings.model_copy(update={"otel_exporter_otlp_endpoint": receiver.url})
            ),
            open_persistence(settings) as persistence,
            hand_ticked(settings, persistence, clock, seed=7) as service,
        ):
            sims = {sid: AudienceSimulator(50, seed) for sid, seed in (("s1", 1), ("s2", 2))}
            for sid, sim in sims.items():
                service.collector.ingest("ev-otel", sid, [s for _, s in sim.joins(0)], "test")
            ticks = 0
            found = False
            for n in range(72):
                rates = HIGH if n < 30 else LOW
                for sid, sim in sims.items():
                    signals = [s for _, s in sim.step(clock.time(), TICK, rates)]
                    service.collector.ingest("ev-otel", sid, signals, "test")
                clock.advance(TICK)
                results = await service.tick()
                await service.drain()
                ticks += 1
                if any(r.anomalies for r in results):
                    found = True
                    break
            assert found, "the simulated drop raised no anomaly"
    spans = [s for s in receiver.snapshot() if s.name == "engagement.tick"]
    assert len(spans) == 2 * ticks
    assert {
        (s.attributes["agentgraph.event_id"], s.attributes["agentgraph.session_id"]) for s in spans
    } == {
        ("ev-otel", "s1"),
        ("ev-otel", "s2"),
    }
    # A trace per session and tick: nothing strings a whole event's ticks together.
    assert all(s.parent_id == "" for s in spans)
    assert len({s.trace_id for s in spans}) == len(spans)
    assert all(0 <= s.attributes["agentgraph.engagement.score"] <= 100 for s in spans)
    flagged = [s for s in spans if s.attributes["agentgraph.engagement.anomalies"] > 0]
    assert flagged
    for span in flagged:
        types = span.attributes["agentgraph.engagement.anomaly_types"]
        assert len(types) == span.attributes["agentgraph.engagement.anomalies"]
        assert set(types) <= {
            "mass_exit",
            "sudden_drop",
            "sustained_low",
            "gradual_decline",
            "spike",
        }
    quiet = [s for s in spans if s.attributes["agentgraph.engagement.anomalies"] == 0]
    assert quiet and all(
        s.attributes.get("agentgraph.engagement.anomaly_types", []) == [] for s in quiet
    )
