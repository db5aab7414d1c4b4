"""Generated attendee traffic for tests, benchmarks and tuning of the detector.

`AudienceSimulator(attendees, seed)` emits realistic random signals for one session
following a `Rates` profile that may change over time (Poisson chat and reaction
counts, a share of the audience voting each minute, leaves). `run_trace()` feeds a
profile through the real windows, score and detector in simulated time and returns
every tick's score and anomalies. Named scenarios (`SCENARIOS`) are the traces the
docs report false-alarm rates and detection delays on. Same seed, same trace.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from agentgraph.engagement.detection.anomaly import Anomaly, AnomalyDetector, DetectorConfig
from agentgraph.engagement.detection.score import engagement_score
from agentgraph.engagement.signals.parsing import Signal, SignalType
from agentgraph.engagement.signals.windows import SessionWindows


@dataclass(frozen=True)
class Rates:
    """Audience behaviour at one moment: totals per minute, shares of those present."""

    chat_per_min: float = 20.0
    poll_participation: float = 0.6
    reactions_per_min: float = 10.0
    leaves_per_min: float = 0.0


HIGH = Rates(20.0, 0.6, 10.0)
MEDIUM = Rates(8.0, 0.35, 4.0)
LOW = Rates(2.0, 0.15, 2.0)
VERY_HIGH = Rates(60.0, 0.9, 40.0)

Profile = Callable[[float], Rates]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class AudienceSimulator:
    """Random signals of one session's audience."""

    def __init__(self, attendees: int, seed: int, *, prefix: str = "u") -> None:
        self.rng = random.Random(seed)
        self.present = [f"{prefix}{i}" for i in range(attendees)]
        self._voted_minute: dict[str, int] = {}

    def joins(self, at: float) -> list[tuple[float, Signal]]:
        """A `join` from every attendee at `at`."""
        return [(at, Signal("join", user)) for user in self.present]

    def step(self, start: float, seconds: float, rates: Rates) -> list[tuple[float, Signal]]:
        """Signals in [start, start + seconds), in time order."""
        rng, out = self.rng, []
        minutes = seconds / 60.0
        kinds: tuple[tuple[SignalType, float], ...] = (
            ("chat", rates.chat_per_min),
            ("reaction", rates.reactions_per_min),
        )
        for kind, rate in kinds:
            for _ in range(_poisson(rng, rate * minutes)):
                if self.present:
                    at = start + rng.random() * seconds
                    out.append((at, Signal(kind, rng.choice(self.present))))
        minute = int(start // 60)
        vote_p = min(1.0, rates.poll_participation * minutes)
        for user in self.present:
            if self._voted_minute.get(user) != minute and rng.random() < vote_p:
                self._voted_minute[user] = minute
                out.append((start + rng.random() * seconds, Signal("poll_vote", user)))
        for _ in range(_poisson(rng, rates.leaves_per_min * minutes)):
            if self.present:
                user = self.present.pop(rng.randrange(len(self.present)))
                out.append((start + rng.random() * seconds, Signal("leave", user)))
        out.sort(key=lambda item: item[0])
        return out


@dataclass
class TraceResult:
    """Per-tick scores and every anomaly of one simulated session."""

    scores: list[tuple[float, float]] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)

    def first(self, kind: str, after: float = -math.inf) -> Anomaly | None:
        """The first anomaly of `kind` detected at or after `after`, if any."""
        return next((a for a in self.anomalies if a.type == kind and a.detected_at >= after), None)


def run_trace(
    profile: Profile,
    *,
    minutes: float,
    seed: int,
    attendees: int = 50,
    tick_seconds: float = 5.0,
    window_seconds: float = 60.0,
    config: DetectorConfig | None = None,
    start: float = 0.0,
) -> TraceResult:
    """Simulate one session for `minutes` and run windows, score and detector on it."""
    sim = AudienceSimulator(attendees, seed)
    windows = SessionWindows(window_seconds)
    detector = AnomalyDetector(config)
    result = TraceResult()
    for at, signal in sim.joins(start):
        windows.add(signal, at)
    now = start
    for _ in range(int(minutes * 60 / tick_seconds)):
        for at, signal in sim.step(now, tick_seconds, profile(now - start)):
            windows.add(signal, at)
        now += tick_seconds
        snapshot = windows.snapshot(now)
        score = engagement_score(snapshot)
        result.scores.append((now, score))
        result.anomalies.extend(detector.observe(score, snapshot, now))
    return result


def steady(rates: Rates) -> Profile:
    """The same rates throughout."""
    return lambda _t: rates


def step_change(before: Rates, after: Rates, at_seconds: float) -> Profile:
    """`before` until `at_seconds`, `after` from then on."""
    return lambda t: before if t < at_seconds else after


def ramp(before: Rates, after: Rates, from_seconds: float, over_seconds: float) -> Profile:
    """From `before` to `after`, linearly over `over_seconds` starting at `from_seconds`."""

    def profile(t: float) -> Rates:
        x = min(1.0, max(0.0, (t - from_seconds) / over_seconds))
        return Rates(
            before.chat_per_min + x * (after.chat_per_min - before.chat_per_min),
            before.poll_participation + x * (after.poll_participation - before.poll_participation),
            before.reactions_per_min + x * (after.reactions_per_min - before.reactions_per_min),
            0.0,
        )

    return profile


def mass_exit(base: Rates, at_seconds: float, leaves_per_min: float) -> Profile:
    """`base` with `leaves_per_min` leaving for 20 s from `at_seconds`."""
    exodus = Rates(
        base.chat_per_min, base.poll_participation, base.reactions_per_min, leaves_per_min
    )
    return lambda t: exodus if at_seconds <= t < at_seconds + 20 else base


CHANGE_AT = 600.0
SCENARIOS: dict[str, Profile] = {
    "steady_high": steady(HIGH),
    "steady_medium": steady(MEDIUM),
    "drop": step_change(HIGH, LOW, CHANGE_AT),
    "decline": ramp(HIGH, LOW, CHANGE_AT, 600.0),
    "spike": step_change(MEDIUM, VERY_HIGH, CHANGE_AT),
    "mass_exit": mass_exit(HIGH, CHANGE_AT, 60.0),
}
"""Scenario name -> profile; changes happen at `CHANGE_AT` seconds."""
