"""The conductor's Prometheus series, registered on agentgraph's one `REGISTRY`.

They live beside the conductor because only the conductor updates them and their
names (`agentgraph_engagement_*`) are part of its contract; registering on
`agentgraph.observability.metrics.REGISTRY` puts them on the same `/metrics` page
as every other series. (The module is not called `metrics.py`: there are three of
those already, in observability, runtime and server.) Counters and histograms are
updated where things happen (graph nodes, collector, Redis bridge, notifications);
`record_decision` and `record_outcome` keep the average-confidence and success-rate
gauges current; the session, mode and LLM spend gauges are set by
`EngagementService` on every tick. `tick_span(result)` is the OpenTelemetry span of
one session's tick (export on): `engagement.tick`, a new trace per session and tick,
with the event and session ids, the score and the anomalies' types; the cycle it
starts runs inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

from agentgraph.observability import otel
from agentgraph.observability.metrics import REGISTRY
from agentgraph.observability.otel import Span

SIGNALS = Counter(
    "agentgraph_engagement_signals_total",
    "Attendee signals accepted, by source (websocket, redis).",
    ["source"],
    registry=REGISTRY,
)
MALFORMED = Counter(
    "agentgraph_engagement_malformed_frames_total",
    "Signal frames or items rejected as malformed, by source.",
    ["source"],
    registry=REGISTRY,
)
ANOMALIES = Counter(
    "agentgraph_engagement_anomalies_total",
    "Anomalies detected, by type and severity.",
    ["type", "severity"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "agentgraph_engagement_decisions_total",
    "Decisions by gate action (execute, ask, skip).",
    ["action"],
    registry=REGISTRY,
)
INTERVENTIONS = Counter(
    "agentgraph_engagement_interventions_total",
    "Interventions executed, by type and content source (model, template).",
    ["type", "source"],
    registry=REGISTRY,
)
INTERVENTIONS_SUCCESSFUL = Counter(
    "agentgraph_engagement_interventions_successful_total",
    "Interventions whose measured outcome counted as a success, by type.",
    ["type"],
    registry=REGISTRY,
)
OUTCOMES = Counter(
    "agentgraph_engagement_outcomes_total",
    "Interventions whose outcome was measured.",
    registry=REGISTRY,
)
SUCCESS_RATE = Gauge(
    "agentgraph_engagement_success_rate",
    "Successful over measured interventions since the process started.",
    registry=REGISTRY,
)
CONFIDENCE = Histogram(
    "agentgraph_engagement_decision_confidence",
    "Confidence of each decision's chosen candidate.",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0),
    registry=REGISTRY,
)
AVERAGE_CONFIDENCE = Gauge(
    "agentgraph_engagement_average_confidence",
    "Mean confidence of the decisions made since the process started.",
    registry=REGISTRY,
)
DECISION_SECONDS = Histogram(
    "agentgraph_engagement_decision_seconds",
    "Time from anomaly to decision (perceive + decide), seconds.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
TICK_SECONDS = Histogram(
    "agentgraph_engagement_tick_seconds",
    "Wall time of one scoring tick over all active sessions.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
ACTIVE_SESSIONS = Gauge(
    "agentgraph_engagement_active_sessions",
    "Sessions with signals inside the idle horizon.",
    registry=REGISTRY,
)
SESSIONS_BY_MODE = Gauge(
    "agentgraph_engagement_sessions_by_mode",
    "Active sessions by their event's agent mode.",
    ["mode"],
    registry=REGISTRY,
)
LLM_COST = Gauge(
    "agentgraph_engagement_llm_cost_usd",
    "Conductor LLM spend in the current period (hour, day).",
    ["period"],
    registry=REGISTRY,
)
LLM_LIMIT = Gauge(
    "agentgraph_engagement_llm_limit_usd",
    "Conductor LLM spending limit per period (hour, day).",
    ["period"],
    registry=REGISTRY,
)
ORGANIZER_FEED_ERRORS = Counter(
    "agentgraph_engagement_organizer_feed_errors_total",
    "Redis failures of the cross-process organizer feed, by operation "
    "(publish, subscribe, verdict, reply).",
    ["operation"],
    registry=REGISTRY,
)
ORGANIZER_FEED_DROPPED = Counter(
    "agentgraph_engagement_organizer_feed_dropped_total",
    "Organizer messages not shared with other processes (outbox full or unencodable).",
    registry=REGISTRY,
)

_tallies = {"decisions": 0, "confidence_sum": 0.0, "outcomes": 0, "successes": 0}


def record_decision(action: str, confidence: float | None, seconds: float) -> None:
    """Count one decision; keeps the average-confidence gauge current."""
    DECISIONS.labels(action).inc()
    DECISION_SECONDS.observe(max(seconds, 0.0))
    if confidence is not None:
        CONFIDENCE.observe(confidence)
        _tallies["decisions"] += 1
        _tallies["confidence_sum"] += confidence
        AVERAGE_CONFIDENCE.set(_tallies["confidence_sum"] / _tallies["decisions"])


def record_outcome(kind: str, success: bool) -> None:
    """Count one measured outcome; keeps the success-rate gauge current."""
    OUTCOMES.inc()
    _tallies["outcomes"] += 1
    if success:
        INTERVENTIONS_SUCCESSFUL.labels(kind).inc()
        _tallies["successes"] += 1
    SUCCESS_RATE.set(_tallies["successes"] / _tallies["outcomes"])


def record_sessions(modes: list[str], spent_hour: float, spent_day: float) -> None:
    """Set the per-tick gauges: active sessions (one mode each) and LLM spend."""
    ACTIVE_SESSIONS.set(len(modes))
    counts = dict.fromkeys(("AUTO", "SEMI_AUTO", "MANUAL"), 0)
    for mode in modes:
        counts[mode] = counts.get(mode, 0) + 1
    for mode, count in counts.items():
        SESSIONS_BY_MODE.labels(mode).set(count)
    LLM_COST.labels("hour").set(spent_hour)
    LLM_COST.labels("day").set(spent_day)


class _Anomaly(Protocol):
    @property
    def type(self) -> str: ...


class _SessionTick(Protocol):
    @property
    def event_id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def anomalies(self) -> Sequence[_Anomaly]: ...


def tick_span(result: _SessionTick) -> AbstractContextManager[Span | None]:
    """The `engagement.tick` span of one session's tick result (`SessionTick`)."""
    if not otel.otel_enabled():
        return otel.span("engagement.tick")
    return otel.span(
        "engagement.tick",
        {
            "agentgraph.event_id": result.event_id,
            "agentgraph.session_id": result.session_id,
            "agentgraph.engagement.score": float(result.score),
            "agentgraph.engagement.anomalies": len(result.anomalies),
            "agentgraph.engagement.anomaly_types": [a.type for a in result.anomalies],
        },
        parent=otel.NEW_TRACE,
    )
