"""Organizer notifications: the facts a notification or content may see, and delivery.

`facts_of(session_id, anomaly, snapshot, score)` reduces an anomaly and a session
snapshot to the aggregates content writing may see (no identity, no text).
`notify_organizer(...)` writes a notification from the templates and delivers it to
the organizer feed once per `notice_id` (the intervention ledger deduplicates across
retries, restarts and workers). A mass exit's notice id is derived from the anomaly
(`mass_exit_notice_id`), so the service (which notifies as soon as it sees the
anomaly) and the graph (which notifies from `decide`) never send two for one exit.
"""

from __future__ import annotations

from typing import Any

from langgraph.store.base import BaseStore

from agentgraph.engagement import telemetry
from agentgraph.engagement.conductor.content import ContentWriter
from agentgraph.engagement.delivery import interventions
from agentgraph.engagement.delivery.publisher import Publisher


def facts_of(
    session_id: str, anomaly: dict[str, Any], snapshot: dict[str, Any], score: float
) -> dict[str, Any]:
    """Aggregates only: what content writing and notifications may see."""
    return {
        "session_id": session_id,
        "anomaly_type": anomaly.get("anomaly_type"),
        "severity": anomaly.get("severity"),
        "score": anomaly.get("score", score),
        "baseline": anomaly.get("baseline"),
        "exits": anomaly.get("details", {}).get("exits", 0),
        "audience": snapshot.get("present"),
        "chat_per_min": snapshot.get("chat_per_min"),
        "poll_participation": snapshot.get("poll_participation"),
    }


def mass_exit_notice_id(event_id: str, session_id: str, anomaly: dict[str, Any]) -> str:
    """One id per detected anomaly (its detection time identifies it in the session)."""
    detected = float(anomaly.get("detected_at") or 0.0)
    return f"{event_id}:{session_id}:notify:{int(detected * 1000)}"


async def notify_organizer(
    *,
    store: BaseStore,
    publisher: Publisher,
    writer: ContentWriter,
    event_id: str,
    facts: dict[str, Any],
    notice_id: str,
    now: float,
    seed: int = 0,
) -> None:
    """Deliver one organizer notification, at most once per `notice_id`."""
    existing = await interventions.recorded(store, event_id, notice_id)
    if existing is not None and existing.get("delivered"):
        return
    content, source = await writer.write("organizer_notification", facts, seed=seed)
    notice = {
        "id": notice_id,
        "session_id": facts.get("session_id"),
        "intervention_type": "organizer_notification",
        "content": content,
        "source": source,
        "executed_at": now,
    }
    await interventions.deliver_once(store, publisher, event_id, notice)
    telemetry.INTERVENTIONS.labels("organizer_notification", source).inc()
