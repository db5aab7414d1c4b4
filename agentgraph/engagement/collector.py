"""The signal collector: every active session's windows and detector, in one process.

`SignalCollector.ingest(event_id, session_id, signals, source)` records signals at
the clock's time; `tick()` scores every session with signals inside the idle
horizon, runs its detector and returns one `SessionTick` per session (score,
snapshot, anomalies). Sessions idle longer than `idle_seconds` are forgotten (their
next signal starts a fresh warm-up). Only aggregates leave this object. Both calls
are synchronous and never await, so a tick over thousands of sessions cannot
interleave with ingestion on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentgraph.engagement import metrics as m
from agentgraph.engagement.anomaly import Anomaly, AnomalyDetector, DetectorConfig
from agentgraph.engagement.clock import Clock
from agentgraph.engagement.score import engagement_score
from agentgraph.engagement.signals import Signal
from agentgraph.engagement.windows import SessionSnapshot, SessionWindows

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


class SignalCollector:
    """Windows, scores and detectors of every session this process sees."""

    def __init__(
        self,
        *,
        clock: Clock,
        window_seconds: float,
        idle_seconds: float,
        detector_config: DetectorConfig,
    ) -> None:
        self.clock = clock
        self.window_seconds = window_seconds
        self.idle_seconds = idle_seconds
        self.detector_config = detector_config
        self._sessions: dict[SessionKey, _Session] = {}

    def ingest(self, event_id: str, session_id: str, signals: list[Signal], source: str) -> None:
        if not signals:
            return
        key = (event_id, session_id)
        session = self._sessions.get(key)
        if session is None:
            session = _Session(
                SessionWindows(self.window_seconds), AnomalyDetector(self.detector_config)
            )
            self._sessions[key] = session
        at = self.clock.now()
        for signal in signals:
            session.windows.add(signal, at)
        m.SIGNALS.labels(source).inc(len(signals))

    def tick(self) -> list[SessionTick]:
        """Score and check every active session now."""
        now = self.clock.now()
        results: list[SessionTick] = []
        for key, session in list(self._sessions.items()):
            last = session.windows.last_signal_at
            if last is None or now - last > self.idle_seconds:
                del self._sessions[key]
                continue
            snapshot = session.windows.snapshot(now)
            score = engagement_score(snapshot)
            anomalies = session.detector.observe(score, snapshot, now)
            session.score, session.snapshot = score, snapshot
            for anomaly in anomalies:
                m.ANOMALIES.labels(anomaly.type, anomaly.severity).inc()
            results.append(SessionTick(key[0], key[1], score, snapshot, anomalies))
        return results

    def current_score(self, event_id: str, session_id: str) -> float | None:
        session = self._sessions.get((event_id, session_id))
        return None if session is None else session.score

    def sessions(self) -> list[SessionKey]:
        return list(self._sessions)
