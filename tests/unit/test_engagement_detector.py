"""The anomaly detector on generated traces: quiet when steady, fast on real changes."""

from __future__ import annotations

import itertools

import pytest

from agentgraph.engagement.detection.anomaly import AnomalyDetector, DetectorConfig
from agentgraph.engagement.detection.simulation import CHANGE_AT, SCENARIOS, run_trace
from agentgraph.engagement.signals.windows import SessionSnapshot

SEEDS = range(10)


def quiet(present: int = 50) -> SessionSnapshot:
    return SessionSnapshot(present, present // 2, 10.0, 5.0, 0.5, 0.0, 0.0, 0)


@pytest.mark.parametrize("scenario", ["steady_high", "steady_medium"])
def test_steady_traces_do_not_alarm(scenario: str) -> None:
    alarms = [
        a for seed in SEEDS for a in run_trace(SCENARIOS[scenario], minutes=20, seed=seed).anomalies
    ]
    # 10 sessions x 20 minutes = 3.3 session-hours; allow at most one stray alarm.
    assert len(alarms) <= 1, [(a.type, a.detected_at) for a in alarms]


def test_sudden_drop_is_detected_within_a_minute_and_a_half() -> None:
    delays = []
    for seed in SEEDS:
        trace = run_trace(SCENARIOS["drop"], minutes=14, seed=seed)
        assert not [a for a in trace.anomalies if a.detected_at < CHANGE_AT]
        first = trace.first("sudden_drop", after=CHANGE_AT)
        assert first is not None, f"seed {seed}: drop missed"
        # A fall from about 70 to about 30 within the window: a medium sudden drop.
        assert (first.type, first.severity) == ("sudden_drop", "medium")
        assert [a.type for a in trace.anomalies if a.detected_at <= first.detected_at] == [
            "sudden_drop"
        ]
        delays.append(first.detected_at - CHANGE_AT)
    assert max(delays) <= 120 and sum(delays) / len(delays) <= 60


def test_gradual_decline_is_detected_while_it_happens() -> None:
    for seed in SEEDS:
        trace = run_trace(SCENARIOS["decline"], minutes=22, seed=seed)
        found = [
            a
            for a in trace.anomalies
            if a.detected_at >= CHANGE_AT
            and a.type in ("gradual_decline", "sudden_drop", "sustained_low")
        ]
        assert found, f"seed {seed}: decline missed"
        assert found[0].detected_at - CHANGE_AT <= 660  # the ramp lasts 600 s


def test_spike_is_detected() -> None:
    hits = 0
    for seed in SEEDS:
        trace = run_trace(SCENARIOS["spike"], minutes=14, seed=seed)
        spike = trace.first("spike", after=CHANGE_AT)
        hits += spike is not None and spike.detected_at - CHANGE_AT <= 60
    assert hits >= 7


def test_mass_exit_is_detected_fast_and_severe() -> None:
    for seed in SEEDS:
        trace = run_trace(SCENARIOS["mass_exit"], minutes=12, seed=seed)
        exit_ = trace.first("mass_exit", after=CHANGE_AT)
        assert exit_ is not None and exit_.detected_at - CHANGE_AT <= 30
        assert exit_.severity == "medium" and exit_.details["exits"] >= 10


def test_warm_up_suppresses_alarms_and_cooldown_limits_repeats() -> None:
    detector = AnomalyDetector(DetectorConfig(warmup_ticks=5, cooldown_seconds=60, low_ticks=100))
    fired = []
    for tick in range(5):
        fired += detector.observe(80 if tick < 3 else 10, quiet(), now=tick * 5.0)
    assert fired == []
    detector = AnomalyDetector(DetectorConfig(warmup_ticks=5, cooldown_seconds=60, low_ticks=100))
    for tick in range(10):
        assert detector.observe(70, quiet(), now=tick * 5.0) == []
    times = []
    for tick in range(10, 40):
        score = 70 if tick % 2 else 20  # flapping: drops and recoveries alternate
        level = 20 if tick < 30 else score
        times += [
            a.detected_at
            for a in detector.observe(level, quiet(), now=tick * 5.0)
            if a.type == "sudden_drop"
        ]
    assert times and all(b - a >= 60 for a, b in itertools.pairwise(times))
