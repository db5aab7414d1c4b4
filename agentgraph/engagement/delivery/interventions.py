"""Executed interventions of an event, in the LangGraph store, delivered at most once.

- `history(store, event_id)`: recent attendee-facing interventions (`type`, `at`,
  `id`) that cooldowns and the hourly cap are computed from, shared by every session
  of the event.
- `deliver_once(store, publisher, event_id, intervention)`: records the intervention
  under `("engagement", "executed", event_id)` keyed by its id *before* delivering
  it, then marks it delivered. Called again with the same id (a run resumed after a
  crash) it delivers nothing when the record says delivered, and delivers the
  recorded content (not new content) when the crash came before delivery. Organizer
  notifications go to the organizer feed only, never to the attendees' channel.
- `record(store, event_id, intervention)`: writes the undelivered record if none
  exists (the graph does this before touching the history, so a resumed run knows
  the intervention was already decided and passed its limit checks).
- `mark_learned(store, event_id, intervention_id)`: sets the record's `learned` flag
  and answers whether this call set it (False when already learned), so an outcome
  is learned once. Callers serialise it per event (the conductor's
  `ConductorDeps.event_lock`, `CycleOwnership.event_lock` in the server).
- Records older than `EXECUTED_KEEP_SECONDS` are deleted whenever a new one is
  written, so the namespace does not grow for the life of an event.
"""

from __future__ import annotations

from typing import Any

from langgraph.store.base import BaseStore

from agentgraph.engagement.delivery.publisher import Message, Publisher

HISTORY_KEEP_SECONDS = 86_400.0
EXECUTED_KEEP_SECONDS = 7 * 86_400.0
_PRUNE_BATCH = 1000


def _history_ns(event_id: str) -> tuple[str, ...]:
    return ("engagement", "history", event_id)


def _executed_ns(event_id: str) -> tuple[str, ...]:
    return ("engagement", "executed", event_id)


async def history(store: BaseStore, event_id: str) -> list[dict[str, Any]]:
    """The event's recent attendee-facing interventions (`type`, `at`, `id`), oldest first."""
    item = await store.aget(_history_ns(event_id), "log")
    return list(item.value.get("items", [])) if item else []


async def append_history(
    store: BaseStore, event_id: str, entry: dict[str, Any], now: float
) -> None:
    """Add an entry once (by id), dropping entries older than `HISTORY_KEEP_SECONDS`."""
    items = [h for h in await history(store, event_id) if now - h["at"] < HISTORY_KEEP_SECONDS]
    if not any(h.get("id") == entry.get("id") for h in items):
        items.append(entry)
    await store.aput(_history_ns(event_id), "log", {"items": items})


async def recorded(store: BaseStore, event_id: str, intervention_id: str) -> dict[str, Any] | None:
    """The intervention's record (with `delivered`, `learned` flags), None if never recorded."""
    item = await store.aget(_executed_ns(event_id), intervention_id)
    return dict(item.value) if item else None


async def prune_executed(store: BaseStore, event_id: str, now: float) -> int:
    """Delete an event's executed records older than `EXECUTED_KEEP_SECONDS`."""
    removed = 0
    for item in await store.asearch(_executed_ns(event_id), limit=_PRUNE_BATCH):
        at = item.value.get("executed_at")
        if isinstance(at, int | float) and now - at > EXECUTED_KEEP_SECONDS:
            await store.adelete(_executed_ns(event_id), item.key)
            removed += 1
    return removed


async def record(store: BaseStore, event_id: str, intervention: Message) -> Message:
    """The intervention's record, written undelivered when there was none."""
    key = str(intervention["id"])
    existing = await recorded(store, event_id, key)
    if existing is not None:
        return existing
    entry = {**intervention, "delivered": False}
    await store.aput(_executed_ns(event_id), key, entry)
    at = intervention.get("executed_at")
    if isinstance(at, int | float):
        await prune_executed(store, event_id, float(at))
    return entry


async def mark_learned(store: BaseStore, event_id: str, intervention_id: str) -> bool:
    """Set the `learned` flag; True when this call set it (callers hold the event lock)."""
    existing = await recorded(store, event_id, intervention_id)
    if existing is None or existing.get("learned"):
        return False
    await store.aput(_executed_ns(event_id), intervention_id, {**existing, "learned": True})
    return True


async def deliver_once(
    store: BaseStore, publisher: Publisher, event_id: str, intervention: Message
) -> Message:
    """Record, deliver, mark delivered; returns the recorded intervention."""
    key = str(intervention["id"])
    existing = await recorded(store, event_id, key)
    if existing and existing.get("delivered"):
        return existing
    entry = existing or await record(store, event_id, intervention)
    message = {k: v for k, v in entry.items() if k not in ("delivered", "learned")}
    if message.get("intervention_type") != "organizer_notification":
        await publisher.intervention(event_id, message)
    entry = {**entry, "delivered": True}
    await store.aput(_executed_ns(event_id), key, entry)
    await publisher.organizer(event_id, {"type": "intervention", **message})
    return entry
