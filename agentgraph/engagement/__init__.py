"""The engagement conductor: live-event signals in, a score and anomalies per session,
a LangGraph graph that decides, asks, intervenes, measures and learns.

The package is grouped by role: `signals/` (parsing at the edge, windows, the Redis
feed), `detection/` (score, anomaly detector, the per-tick collector, simulated
traffic), `conductor/` (the graph, its nodes, state, context and what decisions are
made of), `delivery/` (the intervention ledger, publishers, the organizer feed). At
the top sit the process pieces every group may use: `service` (the process-wide
`EngagementService`), `cycles` and `pending` (graph runs and their pauses),
`ownership` (leases and locks across workers) and `telemetry` (Prometheus series).

Callers may rely on these names staying importable from `agentgraph.engagement`:
`Signal`, `parse_frame`, `SessionWindows`, `SessionSnapshot`, `engagement_score`,
`AnomalyDetector`, `DetectorConfig`, `Anomaly`, `EventSettings`,
`EventSettingsUpdate` (the clock is `agentgraph.clock`). The service
(`agentgraph.engagement.service.open_engagement`) and the graph builder
(`agentgraph.engagement.conductor.graph.build_engagement_graph`) are imported from
their modules, so importing this package stays cheap.
"""

from agentgraph.engagement.conductor.event_settings import EventSettings, EventSettingsUpdate
from agentgraph.engagement.detection.anomaly import Anomaly, AnomalyDetector, DetectorConfig
from agentgraph.engagement.detection.score import engagement_score
from agentgraph.engagement.signals.parsing import Signal, parse_frame
from agentgraph.engagement.signals.windows import SessionSnapshot, SessionWindows

__all__ = [
    "Anomaly",
    "AnomalyDetector",
    "DetectorConfig",
    "EventSettings",
    "EventSettingsUpdate",
    "SessionSnapshot",
    "SessionWindows",
    "Signal",
    "engagement_score",
    "parse_frame",
]
