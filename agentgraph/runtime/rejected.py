"""The record of WhatsApp updates that could not be read, and why.

The webhook answers a body whose one update is odd like any other: the odd update
is recorded here (`wa_rejected`, migration 0004) with the reason and the item as it
arrived (cut at `MAX_PAYLOAD_CHARS`), counted in
`agentgraph_webhook_rejected_updates_total`, logged, and dropped; the rest of the
body is stored and answered. Meta would redeliver a body answered with an error
forever, losing every other message in it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from agentgraph.domain.db import Database
from agentgraph.runtime.channel_metrics import REJECTED
from agentgraph.whatsapp.payloads import clean_text

__all__ = ["MAX_PAYLOAD_CHARS", "RejectedRow", "RejectedUpdates"]

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 4096


@dataclass(frozen=True)
class RejectedRow:
    """One recorded rejection."""

    phone_number_id: str
    kind: str
    item_id: str | None
    reason: str
    payload: str
    received_at: float


def _payload(raw: Any) -> str:
    """The item as JSON (ASCII, so any string stores), cut to `MAX_PAYLOAD_CHARS`."""
    try:
        if isinstance(raw, BaseModel):
            raw = raw.model_dump(mode="json", by_alias=True)
        text = json.dumps(raw, ensure_ascii=True, default=str)
    except (ValueError, TypeError, RecursionError):
        text = f"<{type(raw).__name__} that cannot be written as JSON>"
    return text[:MAX_PAYLOAD_CHARS]


class RejectedUpdates:
    """SQL repository of `wa_rejected`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, phone_number_id: str, kind: str, item_id: str | None, reason: str, raw: Any
    ) -> None:
        """Store one rejection, count it and log it (without the item's content)."""
        reason = clean_text(reason)[:500]
        REJECTED.labels(kind).inc()
        log.warning("rejected a WhatsApp %s update (%s): %s", kind, item_id or "no id", reason)
        await self._db.execute(
            "INSERT INTO wa_rejected (phone_number_id, kind, item_id, reason, payload, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?)",
            [clean_text(phone_number_id), kind, item_id, reason, _payload(raw), time.time()],
        )

    async def recent(self, limit: int = 100) -> list[RejectedRow]:
        """The latest rejections, newest first."""
        rows = await self._db.fetchall(
            "SELECT phone_number_id, kind, item_id, reason, payload, received_at "
            "FROM wa_rejected ORDER BY id DESC LIMIT ?",
            [limit],
        )
        return [
            RejectedRow(
                phone_number_id=r["phone_number_id"],
                kind=r["kind"],
                item_id=r["item_id"],
                reason=r["reason"],
                payload=r["payload"],
                received_at=float(r["received_at"]),
            )
            for r in rows
        ]
