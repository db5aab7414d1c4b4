"""The runtime context of one engagement-graph run: which event session it is about.

The server sets both fields from the session that raised the anomaly; LangGraph
Studio runs default to a demo event and session so the graph runs with an empty
context. The thread id of a run is always `event:{event_id}:{session_id}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(kw_only=True)
class EngagementContext:
    """Per-run facts for the conductor graph."""

    event_id: str = field(
        default="studio-event", metadata={"description": "The live event the session belongs to."}
    )
    session_id: str = field(
        default="studio-session", metadata={"description": "The session that raised the anomaly."}
    )


def thread_id(event_id: str, session_id: str) -> str:
    return f"event:{event_id}:{session_id}"
