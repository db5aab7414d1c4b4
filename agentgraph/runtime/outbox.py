"""The outbox: replies are written durably before they are sent, then sent once.

`Outbox.commit_turn` stores a turn's outgoing messages (keyed `{inbound_id}:{n}`)
and marks the inbound messages answered, atomically (one transaction on SQLite,
one statement on Postgres). It is all or nothing: if another worker answered any
of the inbound messages first (two workers ran the conversation after a lock was
lost), this commit marks and stores nothing and says so
(`CommittedTurn.answered == 0`). A crash after a commit loses nothing and repeats
nothing: the turn is not run again, and the rows are still `pending` for whoever
delivers next. `claim` moves a row to `sending` atomically, so two processes never
both send it. The one gap is a crash after Meta accepted a send but before
`mark_sent`. Every send carries its row id in `biz_opaque_callback_data`, which Meta
returns on the message's status webhooks, and `mark_sent_by_status` marks the row
sent from those; `release_stale` then re-sends a row left in `sending` only when no
status ever named it and no later reply of the same conversation has gone out since
(re-sending then would put an old answer after a newer one: such a row is recorded
as failed, delivery unknown). Only a message Meta accepted but never reported on,
with nothing sent after it, can reach the user twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentgraph.domain.db import Database, Executor, Row

UNKNOWN_DELIVERY = "delivery unknown: its sender died mid-send and a later reply went out"

_COLUMNS = (
    "id, idempotency_key, thread_id, recipient, phone_number_id, inbound_id, kind, payload, "
    "status, attempts, next_attempt_at, wamid, error_code, error, created_at, sent_at"
)


@dataclass(frozen=True)
class OutboxRow:
    """A stored reply. `status` is pending, sending, sent, dev or failed; `payload` is the
    Graph API message body; `attempts` counts claims; `created_at` is epoch seconds."""

    id: int
    idempotency_key: str
    thread_id: str
    recipient: str
    phone_number_id: str | None
    inbound_id: str | None
    kind: str
    payload: dict[str, Any]
    status: str
    attempts: int
    wamid: str | None
    error_code: int | None
    error: str | None
    created_at: float

    @classmethod
    def from_row(cls, row: Row) -> OutboxRow:
        """The row as read from `wa_outbox`, its payload JSON decoded."""
        return cls(
            id=int(row["id"]),
            idempotency_key=row["idempotency_key"],
            thread_id=row["thread_id"],
            recipient=row["recipient"],
            phone_number_id=row["phone_number_id"],
            inbound_id=row["inbound_id"],
            kind=row["kind"],
            payload=json.loads(row["payload"]),
            status=row["status"],
            attempts=int(row["attempts"]),
            wamid=row["wamid"],
            error_code=row["error_code"],
            error=row["error"],
            created_at=float(row["created_at"]),
        )

    def as_json(self) -> dict[str, Any]:
        """The row as `GET /dev/outbox` lists it: the recipient as `to`, the inbound message
        id as `in_reply_to`, the body as `message`."""
        return {
            "id": self.id,
            "to": self.recipient,
            "thread_id": self.thread_id,
            "in_reply_to": self.inbound_id,
            "type": self.kind,
            "message": self.payload,
            "status": self.status,
            "attempts": self.attempts,
            "wamid": self.wamid,
            "error": self.error,
            "created_at": self.created_at,
        }


_INSERT_HEAD = (
    "INSERT INTO wa_outbox (idempotency_key, thread_id, recipient, phone_number_id, "
    "inbound_id, kind, payload, status, attempts, next_attempt_at, created_at)"
)
_INSERT_ONE = (
    f"{_INSERT_HEAD} VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)


@dataclass(frozen=True)
class CommittedTurn:
    """Row ids of the replies this commit stored, and how many inbound messages it
    marked answered (all of them, or 0 when another worker had answered any)."""

    ids: list[int]
    answered: int


class Outbox:
    """SQL repository of `wa_outbox` (and the inbox rows a turn answers)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def commit_turn(
        self,
        *,
        thread_id: str,
        recipient: str,
        phone_number_id: str | None,
        inbound_ids: Sequence[str],
        messages: Sequence[dict[str, Any]],
        orphan_after_seconds: float = 30.0,
    ) -> CommittedTurn:
        """Mark `inbound_ids` answered and store the replies, atomically, or do
        nothing when any of them was answered already.

        The committing worker sends the rows itself; the background sweep leaves
        them alone for `orphan_after_seconds` (only a dead worker's rows are swept).
        """
        now = time.time()
        key_base = inbound_ids[0]
        keys = [f"{key_base}:{n}" for n in range(len(messages))]
        rows = [
            [
                key,
                thread_id,
                recipient,
                phone_number_id,
                key_base,
                str(message.get("type", "text")),
                json.dumps(message, ensure_ascii=False),
                now + orphan_after_seconds,
                now,
            ]
            for key, message in zip(keys, messages, strict=True)
        ]
        inbound = list(dict.fromkeys(inbound_ids))
        if self._db.engine == "postgres":
            answered, found = await self._commit_postgres(rows, inbound, now)
        else:
            found = {}
            marks = ", ".join("?" for _ in inbound)
            async with self._db.transaction() as tx:
                queued = await tx.fetchval(
                    "SELECT COUNT(*) FROM wa_inbox "
                    f"WHERE status = 'queued' AND message_id IN ({marks})",
                    inbound,
                )
                answered = 0
                if int(queued or 0) == len(inbound):
                    answered = await tx.execute(
                        "UPDATE wa_inbox SET status = 'done', processed_at = ? "
                        f"WHERE status = 'queued' AND message_id IN ({marks})",
                        [now, *inbound],
                    )
                    for key, params in zip(keys, rows, strict=True):
                        row_id = await tx.fetchval(_INSERT_ONE, params)
                        if row_id is not None:
                            found[key] = int(row_id)
        # All or nothing: a commit that answered its messages is the first to use
        # their keys, so every reply row is new here.
        return CommittedTurn([found[key] for key in keys if key in found], answered)

    async def _commit_postgres(
        self, rows: list[list[Any]], inbound: list[str], now: float
    ) -> tuple[int, dict[str, int]]:
        """`commit_turn` as one statement: a statement is atomic on its own, so the
        replies and the inbox marks commit together without BEGIN/COMMIT round trips.

        `locked` takes the inbound rows' locks first and sees their latest versions
        (a concurrent commit is waited for), so the marks are all or nothing."""
        marks = ", ".join("?" for _ in inbound)
        sql = (
            "WITH locked AS (SELECT status FROM wa_inbox "
            f"WHERE message_id IN ({marks}) FOR UPDATE), "
            "done AS (UPDATE wa_inbox SET status = 'done', processed_at = ? "
            f"WHERE status = 'queued' AND message_id IN ({marks}) "
            f"AND (SELECT COUNT(*) FROM locked WHERE status = 'queued') = {len(inbound)} "
            "RETURNING 1)"
        )
        params: list[Any] = [*inbound, now, *inbound]
        if not rows:
            answered = await self._db.fetchval(f"{sql} SELECT COUNT(*) FROM done", params)
            return int(answered or 0), {}
        values = ", ".join("(?, ?, ?, ?::text, ?, ?, ?, 'pending', 0, ?, ?)" for _ in rows)
        columns = (
            "idempotency_key, thread_id, recipient, phone_number_id, inbound_id, kind, payload, "
            "status, attempts, next_attempt_at, created_at"
        )
        # Data-modifying WITH clauses always run to completion, read or not; the
        # replies go in only if this statement answered the messages.
        stored = await self._db.fetchall(
            f"{sql}, inserted AS ({_INSERT_HEAD} SELECT * FROM (VALUES {values}) "
            f"AS v ({columns}) WHERE EXISTS (SELECT 1 FROM done) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key) "
            "SELECT (SELECT COUNT(*) FROM done) AS answered, inserted.id, "
            "inserted.idempotency_key FROM (SELECT 1) AS one LEFT JOIN inserted ON true",
            [*params, *(value for row in rows for value in row)],
        )
        answered = int(stored[0]["answered"]) if stored else 0
        return answered, {r["idempotency_key"]: int(r["id"]) for r in stored if r["id"] is not None}

    async def add_in(
        self,
        tx: Executor,
        *,
        key: str,
        thread_id: str,
        recipient: str,
        phone_number_id: str | None,
        message: dict[str, Any],
        orphan_after_seconds: float = 30.0,
    ) -> int:
        """Inside the caller's transaction `tx`, store one message that answers no inbound
        message (a human's reply, a handover notice) under `key`; returns its row id
        (the existing row's when `key` was stored before). As with `commit_turn`, the
        sweep leaves it to the committing process for `orphan_after_seconds`."""
        now = time.time()
        params = [
            key, thread_id, recipient, phone_number_id, None, str(message.get("type", "text")),
            json.dumps(message, ensure_ascii=False), now + orphan_after_seconds, now,
        ]  # fmt: skip
        row_id = await tx.fetchval(_INSERT_ONE, params)
        if row_id is None:
            row_id = await tx.fetchval("SELECT id FROM wa_outbox WHERE idempotency_key = ?", [key])
        return int(row_id)

    async def recent_texts(self, thread_id: str, limit: int) -> list[str]:
        """The bodies of the conversation's last `limit` text messages, newest first."""
        rows = await self._db.fetchall(
            "SELECT payload FROM wa_outbox WHERE thread_id = ? AND kind = 'text' "
            "ORDER BY id DESC LIMIT ?",
            [thread_id, limit],
        )
        return [str(json.loads(r["payload"])["text"]["body"]) for r in rows]

    async def claim(self, row_id: int) -> OutboxRow | None:
        """Take a pending row for sending; None when it is not pending any more."""
        row = await self._db.fetchone(
            "UPDATE wa_outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1 "
            f"WHERE id = ? AND status = 'pending' RETURNING {_COLUMNS}",
            [time.time(), row_id],
        )
        return None if row is None else OutboxRow.from_row(row)

    async def mark_sent(self, row_id: int, wamid: str | None, *, status: str = "sent") -> None:
        """Record a finished send: Meta's `wamid` (None when nothing left the machine) under
        `status` (`sent`, or `dev` in dev mode), clearing any earlier error."""
        await self._db.execute(
            "UPDATE wa_outbox SET status = ?, wamid = ?, sent_at = ?, error = NULL WHERE id = ?",
            [status, wamid, time.time(), row_id],
        )

    async def mark_retry(self, row_id: int, next_attempt_at: float, error: str) -> None:
        """Put a row being sent back to `pending`, due at `next_attempt_at` (epoch seconds),
        with the error that caused the retry; nothing happens unless it is `sending`."""
        await self._db.execute(
            "UPDATE wa_outbox SET status = 'pending', next_attempt_at = ?, error = ? "
            "WHERE id = ? AND status = 'sending'",
            [next_attempt_at, error, row_id],
        )

    async def mark_failed(self, row_id: int, code: int | None, error: str) -> None:
        """Give up on a row: `failed` with Meta's error code (None if unknown) and message;
        it is never sent again."""
        await self._db.execute(
            "UPDATE wa_outbox SET status = 'failed', error_code = ?, error = ? WHERE id = ?",
            [code, error, row_id],
        )

    async def due(self, limit: int = 100, *, everything: bool = False) -> list[int]:
        """Pending rows whose next attempt is due (`everything`: all), oldest first."""
        rows = await self._db.fetchall(
            "SELECT id FROM wa_outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY id LIMIT ?",
            [1e18 if everything else time.time(), limit],
        )
        return [int(r["id"]) for r in rows]

    async def pending_for(self, thread_id: str) -> list[int]:
        """A conversation's unsent rows, oldest first."""
        rows = await self._db.fetchall(
            "SELECT id FROM wa_outbox WHERE thread_id = ? AND status = 'pending' ORDER BY id",
            [thread_id],
        )
        return [int(r["id"]) for r in rows]

    async def release_stale(self, older_than_seconds: float) -> int:
        """Return rows stuck in `sending` (their sender died) to `pending`; returns how
        many. A stuck row of a conversation that has sent a later reply since is
        marked failed ("delivery unknown") instead: re-sending it would arrive out
        of order. (A row whose status webhook arrived is `sent` already.)"""
        cutoff = time.time() - older_than_seconds
        await self._db.execute(
            "UPDATE wa_outbox SET status = 'failed', error = ? "
            "WHERE status = 'sending' AND claimed_at < ? AND EXISTS ("
            "SELECT 1 FROM wa_outbox later WHERE later.thread_id = wa_outbox.thread_id "
            "AND later.id > wa_outbox.id AND later.status IN ('sent', 'dev'))",
            [UNKNOWN_DELIVERY, cutoff],
        )
        return await self._db.execute(
            "UPDATE wa_outbox SET status = 'pending' WHERE status = 'sending' AND claimed_at < ?",
            [cutoff],
        )

    async def mark_sent_by_status(
        self, row_id: int, wamid: str, status: str, error_code: int | None, error: str | None
    ) -> bool:
        """Record what a status webhook naming row `row_id` says: a row still `pending`
        or `sending` (its sender died before recording the send) becomes `sent` with
        the status's wamid, or `failed` for a failed status. True when it changed."""
        if status == "failed":
            changed = await self._db.execute(
                "UPDATE wa_outbox SET status = 'failed', wamid = COALESCE(wamid, ?), "
                "error_code = ?, error = ? WHERE id = ? AND status IN ('pending', 'sending')",
                [wamid, error_code, error or "failed", row_id],
            )
        else:
            changed = await self._db.execute(
                "UPDATE wa_outbox SET status = 'sent', wamid = COALESCE(wamid, ?), sent_at = ? "
                "WHERE id = ? AND status IN ('pending', 'sending')",
                [wamid, time.time(), row_id],
            )
        return changed == 1

    async def unsent_count(self) -> int:
        """Rows not yet delivered or given up on (pending or being sent)."""
        value = await self._db.fetchval(
            "SELECT COUNT(*) FROM wa_outbox WHERE status IN ('pending', 'sending')"
        )
        return int(value or 0)

    async def get(self, row_id: int) -> OutboxRow | None:
        """The row with this id, or None."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM wa_outbox WHERE id = ?", [row_id])
        return None if row is None else OutboxRow.from_row(row)

    async def recent(
        self, limit: int = 100, thread_id: str | None = None, recipient: str | None = None
    ) -> list[OutboxRow]:
        """Newest rows last, of one thread and/or one recipient (`GET /dev/outbox`, tests)."""
        where, params = [], []
        if thread_id is not None:
            where.append("thread_id = ?")
            params.append(thread_id)
        if recipient is not None:
            where.append("recipient = ?")
            params.append(recipient)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM wa_outbox {clause}ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [OutboxRow.from_row(r) for r in reversed(rows)]
