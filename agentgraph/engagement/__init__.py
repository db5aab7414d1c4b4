"""The engagement conductor's building blocks: signals, windows, score, anomaly
detection, bandit, policy, budgets, content, collector and the process service.

Callers may rely on these names staying importable from `agentgraph.engagement`:
`Signal`, `parse_frame`, `SessionWindows`, `SessionSnapshot`, `engagement_score`,
`AnomalyDetector`, `DetectorConfig`, `Anomaly`, `EventSettings`,
`EventSettingsUpdate` (the clock is `agentgraph.clock`). The service
(`agentgraph.engagement.service.open_engagement`) and the graph builder
(`agentgraph.agents.engagement.build_engagement_graph`) are imported from their
modules, so importing this package stays cheap.
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
