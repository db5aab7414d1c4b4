"""Per-session anomaly detection on the engagement score, from a robust baseline.

`AnomalyDetector(config)` is fed once per tick with `observe(score, snapshot, now)`
and returns the anomalies that fired on that tick (usually none). It keeps:

- a *level*: the median of the last 3 scores, so one noisy tick never alarms;
- a *baseline*: an EWMA of the level (alpha `baseline_alpha`) and a *scale*: an EWMA
  of the absolute deviation from it, floored at `min_scale` points;
- a warm-up: nothing but `mass_exit` fires before `warmup_ticks` observations,
  during which baseline and scale are the median and MAD of the latest half of
  the levels (make the warm-up longer than one window, so the opening ramp is out);
- a cooldown per anomaly type (`cooldown_seconds`): a type that fired stays quiet
  for that long, whatever happens.

Types and rules (points are score points, 0-100):

- `sudden_drop`: level <= baseline - max(drop_k * scale, drop_min_points)
- `spike`: level >= baseline + max(spike_k * scale, spike_min_points)
- `gradual_decline`: over the last `decline_ticks` the mean of the first third minus
  the mean of the last third is >= `decline_min_points`, the least-squares slope is
  negative, the level is at least a quarter of that below the baseline, and no
  drop or spike fired within the same span
- `sustained_low`: level < `low_threshold` for `low_ticks` consecutive ticks
- `mass_exit`: leaves in the window >= max(`mass_exit_min`, `mass_exit_share` of
  the audience present at the window start)

Severity is `low`, `medium` or `high` by the size of the change (see `_severity`).
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from agentgraph.engagement.signals.windows import SessionSnapshot

AnomalyType = Literal["sudden_drop", "gradual_decline", "sustained_low", "mass_exit", "spike"]
Severity = Literal["low", "medium", "high"]
ANOMALY_TYPES: tuple[AnomalyType, ...] = (
    "sudden_drop",
    "gradual_decline",
    "sustained_low",
    "mass_exit",
    "spike",
)


@dataclass(frozen=True)
class DetectorConfig:
    """Detector thresholds; tick counts are in observations, not seconds."""

    warmup_ticks: int = 24
    cooldown_seconds: float = 120.0
    baseline_alpha: float = 0.05
    clip_k: float = 3.0
    min_scale: float = 3.0
    drop_k: float = 5.0
    drop_min_points: float = 20.0
    spike_k: float = 5.0
    spike_min_points: float = 20.0
    decline_ticks: int = 72
    decline_min_points: float = 18.0
    low_threshold: float = 25.0
    low_ticks: int = 12
    mass_exit_min: int = 5
    mass_exit_share: float = 0.2


@dataclass(frozen=True)
class Anomaly:
    """One detected anomaly of one session; holds aggregates only."""

    type: AnomalyType
    severity: Severity
    score: float
    baseline: float
    magnitude: float
    detected_at: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The anomaly as the organizer feed and the graph input carry it (rounded)."""
        return {
            "anomaly_type": self.type,
            "severity": self.severity,
            "score": round(self.score, 1),
            "baseline": round(self.baseline, 1),
            "magnitude": round(self.magnitude, 1),
            "detected_at": self.detected_at,
            "details": dict(self.details),
        }


def _severity(kind: AnomalyType, magnitude: float, baseline: float) -> Severity:
    if kind == "mass_exit":
        share = magnitude
        return "high" if share >= 0.35 else "medium"
    if kind == "sustained_low":
        level = magnitude
        return "high" if level < 15 else "medium" if level < 25 else "low"
    relative = magnitude / max(baseline, 1.0)
    if magnitude >= 35 or relative >= 0.5:
        return "high"
    if magnitude >= 20 or relative >= 0.3:
        return "medium"
    return "low"


def _slope(values: list[float]) -> float:
    n = len(values)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den if den else 0.0


class AnomalyDetector:
    """Stateful detector for one session."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self._recent: deque[float] = deque(maxlen=3)
        self._levels: deque[float] = deque(maxlen=max(self.config.decline_ticks, 3))
        self._presence: deque[int] = deque(maxlen=max(self.config.decline_ticks, 3))
        self.baseline: float | None = None
        self.scale = self.config.min_scale
        self.observations = 0
        self._low_run = 0
        self._last_fired: dict[AnomalyType, float] = {}
        self._last_step: float | None = None
        self._step: tuple[float, float, bool] | None = None
        self._previous_at: float | None = None

    @property
    def warmed_up(self) -> bool:
        """True once more than `warmup_ticks` scores were observed."""
        return self.observations > self.config.warmup_ticks

    def _cooling(self, kind: AnomalyType, now: float) -> bool:
        last = self._last_fired.get(kind)
        return last is not None and now - last < self.config.cooldown_seconds

    def observe(self, score: float, snapshot: SessionSnapshot, now: float) -> list[Anomaly]:
        """Feed one tick's score; the anomalies that fire now (cooldowns applied)."""
        cfg = self.config
        self.observations += 1
        self._recent.append(score)
        level = statistics.median(self._recent)
        self._levels.append(level)
        self._presence.append(snapshot.present + snapshot.leaves_in_window)
        baseline = level if self.baseline is None else self.baseline
        found: list[Anomaly] = []

        audience = max(self._presence[0], snapshot.present + snapshot.leaves_in_window)
        exits = snapshot.leaves_in_window
        if audience and exits >= max(cfg.mass_exit_min, cfg.mass_exit_share * audience):
            share = exits / audience
            found.append(self._make("mass_exit", share, score, baseline, now, {"exits": exits}))

        if self.warmed_up:
            drop = baseline - level
            if drop >= max(cfg.drop_k * self.scale, cfg.drop_min_points) and not self._returning(
                level, now, rising=False
            ):
                found.append(self._make("sudden_drop", drop, score, baseline, now, {}))
            rise = level - baseline
            if rise >= max(cfg.spike_k * self.scale, cfg.spike_min_points) and not self._returning(
                level, now, rising=True
            ):
                found.append(self._make("spike", rise, score, baseline, now, {}))
            recent_step = self._last_step is not None and self._last_step > now - (
                cfg.decline_ticks * self._tick_estimate(now)
            )
            if len(self._levels) >= cfg.decline_ticks and not found and not recent_step:
                values = list(self._levels)[-cfg.decline_ticks :]
                third = max(1, len(values) // 3)
                fall = sum(values[:third]) / third - sum(values[-third:]) / third
                below = baseline - level >= cfg.decline_min_points / 4
                if fall >= cfg.decline_min_points and below and _slope(values) < 0:
                    found.append(self._make("gradual_decline", fall, score, values[0], now, {}))
        self._low_run = self._low_run + 1 if level < cfg.low_threshold else 0
        if self.warmed_up and self._low_run >= cfg.low_ticks:
            found.append(self._make("sustained_low", level, score, baseline, now, {}))

        # Update after checking, so a change is judged against the level before it.
        # Deviations are clipped (bounded influence), so one burst cannot drag the
        # baseline; a confirmed level shift (drop or spike) re-baselines instead.
        if not self.warmed_up:
            # Warm-up: median/MAD of the latest half, so a session's opening ramp
            # (windows filling up) is not mistaken for its normal level.
            tail = list(self._levels)[-max(3, self.observations // 2) :]
            self.baseline = statistics.median(tail)
            mad = statistics.median(abs(v - self.baseline) for v in tail)
            self.scale = max(cfg.min_scale, 1.4826 * mad)
        elif self.baseline is None:
            self.baseline = level
        else:
            deviation = level - self.baseline
            limit = cfg.clip_k * self.scale
            clipped = max(-limit, min(limit, deviation))
            if abs(deviation) <= limit:
                # Outliers leave the scale alone: a slow shift must not widen the band
                # that is supposed to catch it.
                self.scale = max(
                    cfg.min_scale,
                    (1 - cfg.baseline_alpha) * self.scale + cfg.baseline_alpha * abs(deviation),
                )
            self.baseline += cfg.baseline_alpha * clipped
        steps = [a for a in found if a.type in ("sudden_drop", "spike")]
        if steps or self._returning(level, now, rising=level > baseline):
            if steps:
                self._step = (now, baseline, steps[0].type == "spike")
            else:
                self._step = None
            self._last_step = now
            self.baseline = level

        fired = [a for a in found if not self._cooling(a.type, now)]
        for anomaly in fired:
            self._last_fired[anomaly.type] = now
        self._previous_at = now
        return fired

    def _returning(self, level: float, now: float, *, rising: bool) -> bool:
        """True when `level` is back at the baseline from before a recent opposite step
        (the recovery after a drop, the fading of a spike): that is not news."""
        if self._step is None:
            return False
        at, before, was_spike = self._step
        if now - at > 2 * self.config.cooldown_seconds or was_spike == rising:
            return False
        margin = self.config.drop_min_points / 2
        return level >= before - margin if rising else level <= before + margin

    def _tick_estimate(self, now: float) -> float:
        return now - self._previous_at if self._previous_at is not None else 0.0

    def _make(
        self,
        kind: AnomalyType,
        magnitude: float,
        score: float,
        baseline: float,
        now: float,
        details: dict[str, Any],
    ) -> Anomaly:
        return Anomaly(
            type=kind,
            severity=_severity(kind, magnitude, baseline),
            score=score,
            baseline=baseline,
            magnitude=magnitude,
            detected_at=now,
            details=details,
        )
