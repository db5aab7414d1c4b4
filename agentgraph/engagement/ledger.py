"""Executed interventions of an event, in the LangGraph store, delivered at most once.

- `history(store, event_id)`: recent attendee-facing interventions (`type`, `at`,
  `id`) that cooldowns and the hourly cap are computed from, shared by every session
  of the event.
- `deliver_once(store, publisher, event_id, intervention)`: records the intervention
  under `("engagement", "executed", event_id)` keyed by its id *before* delivering
  it, then marks it delivered. Called again with the same id (a run resumed after a
  crash) it delivers nothing when the record says delivered, and delivers the
  recorded content (not new content) when the crash came before delivery.
"""

from __future__ import annotations

from typing import Any

from langgraph.store.base import BaseStore

from agentgraph.engagement.publisher import Message, Publisher

HISTORY_KEEP_SECONDS = 86_400.0


def _history_ns(event_id: str) -> tuple[str, ...]:
    return ("engagement", "history", event_id)


def _executed_ns(event_id: str) -> tuple[str, ...]:
    return ("engagement", "executed", event_id)


async def history(store: BaseStore, event_id: str) -> list[dict[str, Any]]:
    item = await store.aget(_history_ns(event_id), "log")
    return list(item.value.get("items", [])) if item else []


async def append_history(
    store: BaseStore, event_id: str, entry: dict[str, Any], now: float
) -> None:
    items = [h for h in await history(store, event_id) if now - h["at"] < HISTORY_KEEP_SECONDS]
    if not any(h.get("id") == entry.get("id") for h in items):
        items.append(entry)
    await store.aput(_history_ns(event_id), "log", {"items": items})


async def recorded(store: BaseStore, event_id: str, intervention_id: str) -> dict[str, Any] | None:
    item = await store.aget(_executed_ns(event_id), intervention_id)
    return dict(item.value) if item else None


async def deliver_once(
    store: BaseStore, publisher: Publisher, event_id: str, intervention: Message
) -> Message:
    """Record, deliver, mark delivered; returns the recorded intervention."""
    key = str(intervention["id"])
    existing = await recorded(store, event_id, key)
    if existing and existing.get("delivered"):
        return existing
    record = existing or {**intervention, "delivered": False}
    if existing is None:
        await store.aput(_executed_ns(event_id), key, record)
    message = {k: v for k, v in record.items() if k != "delivered"}
    await publisher.intervention(event_id, message)
    record = {**record, "delivered": True}
    await store.aput(_executed_ns(event_id), key, record)
    await publisher.organizer(event_id, {"type": "intervention", **message})
    return record
