"""The inbox: every inbound WhatsApp message, stored once, in arrival order.

`Inbox.add_many(entries)` inserts a webhook's messages, each with the tenant and
thread it was resolved to at ingest, keyed by their WhatsApp ids, and returns only
the new ones: the UNIQUE constraint makes this dedup atomic across
processes, so two identical deliveries at the same instant yield one row. Rows are
numbered in arrival order (body order within one webhook).
Rows stay `queued` until the turn that answers them commits its replies to the
outbox (`Outbox.commit_turn` marks them `done` in the same transaction). `pending`
returns a conversation's queued rows in arrival order.

Arrival times come from the injected `Clock` (`SYSTEM_CLOCK` by default): the debounce
window compares them, so a test moves a `ManualClock` instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.domain.db import Database, Row
from agentgraph.whatsapp.inbound import InboundMessage

# Rows per INSERT statement (7 parameters each, well under both engines' limits).
CHUNK = 100


@dataclass(frozen=True)
class InboxEntry:
    """One inbound message with the tenant and conversation it belongs to."""

    tenant: str
    thread_id: str
    message: InboundMessage


@dataclass(frozen=True)
class InboxRow:
    """A stored inbound message, as a turn reads it."""

    seq: int
    message_id: str
    tenant: str
    thread_id: str
    kind: str
    received_at: float
    message: InboundMessage


_ROW_COLUMNS = "seq, message_id, tenant, thread_id, kind, received_at, payload"


def _row(r: Row) -> InboxRow:
    return InboxRow(
        seq=int(r["seq"]),
        message_id=r["message_id"],
        tenant=r["tenant"],
        thread_id=r["thread_id"],
        kind=r["kind"],
        received_at=float(r["received_at"]),
        message=InboundMessage.from_json(r["payload"]),
    )


class Inbox:
    """SQL repository of `wa_inbox` on either engine."""

    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self._db = db
        self._clock = clock

    async def add_many(
        self, entries: Sequence[InboxEntry], received_at: float | None = None
    ) -> list[InboxEntry]:
        """Store a webhook's messages in one statement per chunk; returns the new ones
        (in the given order). Duplicates, within the batch or of earlier rows, are dropped.

        Every row of one call shares one arrival time: `received_at`, else the clock's."""
        at = self._clock.time() if received_at is None else received_at
        first: dict[str, InboxEntry] = {}
        for e in entries:
            first.setdefault(e.message.id, e)
        unique = list(first.values())
        fresh: set[str] = set()
        # Rows are inserted in body order: their sequence numbers are the arrival order.
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start : start + CHUNK]
            values = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, 'queued')" for _ in chunk)
            params: list[object] = []
            for e in chunk:
                m = e.message
                params += [
                    m.id, e.tenant, e.thread_id, m.phone_number_id, m.wa_id, m.kind,
                    m.to_json(), at,
                ]  # fmt: skip
            rows = await self._db.fetchall(
                "INSERT INTO wa_inbox (message_id, tenant, thread_id, phone_number_id, wa_id, "
                f"kind, payload, received_at, status) VALUES {values} "
                "ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
                params,
            )
            fresh.update(r["message_id"] for r in rows)
        return [e for e in unique if e.message.id in fresh]

    async def pending(self, thread_id: str, limit: int = 100) -> list[InboxRow]:
        """Queued messages of one conversation, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_ROW_COLUMNS} FROM wa_inbox "
            "WHERE thread_id = ? AND status = 'queued' ORDER BY seq LIMIT ?",
            [thread_id, limit],
        )
        return [_row(r) for r in rows]

    async def pending_with_unsent(
        self, thread_id: str, limit: int = 100
    ) -> tuple[list[int], list[InboxRow]]:
        """`Outbox.pending_for(thread_id)` and `pending(thread_id, limit)` in one query:
        the conversation's committed-but-unsent reply ids and its queued rows."""
        rows = await self._db.fetchall(
            f"SELECT {_ROW_COLUMNS}, NULL AS outbox_id "
            f"FROM (SELECT {_ROW_COLUMNS} FROM wa_inbox "
            "WHERE thread_id = ? AND status = 'queued' ORDER BY seq LIMIT ?) AS queued "
            "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, id FROM wa_outbox "
            "WHERE thread_id = ? AND status = 'pending'",
            [thread_id, limit, thread_id],
        )
        unsent = sorted(int(r["outbox_id"]) for r in rows if r["outbox_id"] is not None)
        queued = [_row(r) for r in rows if r["outbox_id"] is None]
        queued.sort(key=lambda row: row.seq)
        return unsent, queued

    async def pending_threads(self) -> list[str]:
        """Conversations with unanswered messages, oldest first (for crash recovery)."""
        rows = await self._db.fetchall(
            "SELECT thread_id, MIN(seq) AS first FROM wa_inbox WHERE status = 'queued' "
            "GROUP BY thread_id ORDER BY first"
        )
        return [r["thread_id"] for r in rows]

    async def has_thread(self, thread_id: str, tenant: str | None = None) -> bool:
        """True when the conversation (of `tenant`, when given) has any stored message."""
        sql = "SELECT 1 FROM wa_inbox WHERE thread_id = ?"
        params: list[object] = [thread_id]
        if tenant is not None:
            sql, params = sql + " AND tenant = ?", [*params, tenant]
        return await self._db.fetchval(sql + " LIMIT 1", params) is not None

    async def depth(self) -> int:
        """How many messages wait for an answer."""
        value = await self._db.fetchval("SELECT COUNT(*) FROM wa_inbox WHERE status = 'queued'")
        return int(value or 0)

    async def status_of(self, message_id: str) -> str | None:
        """The stored message's status (`queued` or `done`), or None for an unknown id."""
        value = await self._db.fetchval(
            "SELECT status FROM wa_inbox WHERE message_id = ?", [message_id]
        )
        return None if value is None else str(value)
