"""Session cycles that wait for something, kept in the store so a restart resumes them.

A `Pending` per session with an open conductor cycle lives under
`("engagement", "pending")`, key `"{event_id}|{session_id}"`. `load_pending()` at
start-up returns them all; the service saves one whenever a cycle starts, pauses or
fails, and deletes it when the cycle ends. A `running` record made by answering a
pause keeps that answer in `resume` (an organizer's verdict, an outcome score) so a
process that dies right after resumes with it instead of asking again; an `outcome`
record keeps the session's level at execution in `before` (the reward's baseline).
`open_approvals()` lists an event's approval pauses still open, for organizers who
connect to any process.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from langgraph.store.base import BaseStore

PENDING_NS = ("engagement", "pending")


@dataclass
class Pending:
    """A session cycle waiting for something: `running`, `retry` (after a failure, at
    `due`), `approval` (until `due`) or `outcome` (at `due`)."""

    event_id: str
    session_id: str
    kind: str
    id: str | None = None
    due: float | None = None
    attempts: int = 0
    message: dict[str, Any] | None = None
    resume: dict[str, Any] | None = None
    before: float | None = None


def _key(event_id: str, session_id: str) -> str:
    return f"{event_id}|{session_id}"


async def save_pending(store: BaseStore, pending: Pending) -> None:
    """Write (or replace) the session's pending record."""
    await store.aput(PENDING_NS, _key(pending.event_id, pending.session_id), asdict(pending))


async def delete_pending(store: BaseStore, key: tuple[str, str]) -> None:
    """Remove the session's pending record."""
    await store.adelete(PENDING_NS, _key(*key))


async def load_pending(store: BaseStore) -> list[Pending]:
    """Every pending record in the store (at start-up)."""
    fields = set(Pending.__dataclass_fields__)
    return [
        Pending(**{k: v for k, v in item.value.items() if k in fields})
        for item in await store.asearch(PENDING_NS, limit=10_000)
    ]


async def open_approvals(store: BaseStore, event_id: str, now: float) -> list[Pending]:
    """The event's approval pauses whose deadline has not passed, whichever process
    owns them (the store is shared), soonest deadline first."""
    fields = set(Pending.__dataclass_fields__)
    items = await store.asearch(
        PENDING_NS, filter={"event_id": event_id, "kind": "approval"}, limit=1_000
    )
    found = [Pending(**{k: v for k, v in item.value.items() if k in fields}) for item in items]
    return sorted(
        (p for p in found if p.due is None or p.due > now), key=lambda p: p.due or math.inf
    )
