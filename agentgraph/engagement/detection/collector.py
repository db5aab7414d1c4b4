"""The signal collector: every active session's windows and detector, in one process.

`SignalCollector.ingest(event_id, session_id, signals, source)` records signals at
the clock's time; `tick()` scores every session with signals inside the idle
horizon, runs its detector and returns one `SessionTick` per session (score,
snapshot, anomalies). Sessions idle longer than `idle_seconds` are forgotten (their
next signal starts a fresh warm-up); `tick()` lists them in `evicted` so the service
can forget its own per-session state. `current_level()` is the median of a session's
last 3 scores (the detector's level, robust to one noisy tick). Presence per session
is capped at `max_present` attendees and forgets attendees silent for
`presence_idle_seconds` (see `SessionWindows`). Only aggregates leave this object. Both calls
are synchronous and never await, so a tick over thousands of sessions cannot
interleave with ingestion on the event loop.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

from agentgraph.clock import Clock
from agentgraph.engagement import telemetry
from agentgraph.engagement.detection.anomaly import Anomaly, AnomalyDetector, DetectorConfig
from agentgraph.engagement.detection.score import engagement_score
from agentgraph.engagement.signals.parsing import Signal
from agentgraph.engagement.signals.windows import SessionSnapshot, SessionWindows

SessionKey = tuple[str, str]


@dataclass
class SessionTick:
    """One session's result of one tick."""

    event_id: str
    session_id: str
    score: float
    snapshot: SessionSnapshot
    anomalies: list[Anomaly] = field(default_factory=list)


@dataclass
class _Session:
    windows: SessionWindows
    detector: AnomalyDetector
    score: float = 0.0
    snapshot: SessionSnapshot | None = None
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=3))


class SignalCollector:
    """Windows, scores and detectors of every session this process sees."""

    def __init__(
        self,
        *,
        clock: Clock,
        window_seconds: float,
        idle_seconds: float,
        detector_config: DetectorConfig,
        max_present: int = 20_000,
        presence_idle_seconds: float = 3600.0,
    ) -> None:
        self.clock = clock
        self.window_seconds = window_seconds
        self.idle_seconds = idle_seconds
        self.detector_config = detector_config
        self.max_present = max_present
        self.presence_idle_seconds = presence_idle_seconds
        self.evicted: list[SessionKey] = []
        self._sessions: dict[SessionKey, _Session] = {}

    def ingest(self, event_id: str, session_id: str, signals: list[Signal], source: str) -> None:
        """Record signals for a session at the clock's time (a new session starts a warm-up)."""
        if not signals:
            return
        key = (event_id, session_id)
        session = self._sessions.get(key)
        if session is None:
            windows = SessionWindows(
                self.window_seconds,
                max_present=self.max_present,
                presence_idle_seconds=self.presence_idle_seconds,
            )
            session = _Session(windows, AnomalyDetector(self.detector_config))
            self._sessions[key] = session
        at = self.clock.time()
        for signal in signals:
            session.windows.add(signal, at)
        telemetry.SIGNALS.labels(source).inc(len(signals))

    def tick(self) -> list[SessionTick]:
        """Score and check every active session now."""
        now = self.clock.time()
        results: list[SessionTick] = []
        self.evicted = []
        for key, session in list(self._sessions.items()):
            last = session.windows.last_signal_at
            if last is None or now - last > self.idle_seconds:
                del self._sessions[key]
                self.evicted.append(key)
                continue
            snapshot = session.windows.snapshot(now)
            score = engagement_score(snapshot)
            anomalies = session.detector.observe(score, snapshot, now)
            session.score, session.snapshot = score, snapshot
            session.recent.append(score)
            for anomaly in anomalies:
                telemetry.ANOMALIES.labels(anomaly.type, anomaly.severity).inc()
            results.append(SessionTick(key[0], key[1], score, snapshot, anomalies))
        return results

    def current_score(self, event_id: str, session_id: str) -> float | None:
        """The session's last score, None for an unknown session."""
        session = self._sessions.get((event_id, session_id))
        return None if session is None else session.score

    def current_level(self, event_id: str, session_id: str) -> float | None:
        """Median of the session's last 3 scores, None for an unknown session."""
        session = self._sessions.get((event_id, session_id))
        if session is None or not session.recent:
            return None
        return float(statistics.median(session.recent))

    def sessions(self) -> list[SessionKey]:
        """The sessions tracked now (those idle past `idle_seconds` go at the next tick)."""
        return list(self._sessions)
