"""Delivery statuses of messages we sent, recorded without ever going backwards.

Meta's status webhooks (sent, delivered, read, failed) can arrive out of order and
"delivered" may be skipped; `MessageStatuses.record` keeps the most advanced one
(sent < delivered < read < failed) so a late "delivered" never downgrades "read".
A failure with code 131047 is recorded as outside the 24-hour window, and the
matching outbox row is marked failed with that reason. A status carrying our
`biz_opaque_callback_data` (`outbox:{id}`) also settles that outbox row when its
sender died before recording the send (`Outbox.mark_sent_by_status`).
"""

from __future__ import annotations

import logging
import re
import time

from agentgraph.domain.db import Database
from agentgraph.runtime.outbox import Outbox
from agentgraph.whatsapp.client import OUTSIDE_WINDOW_CODE
from agentgraph.whatsapp.payloads import Status

log = logging.getLogger(__name__)

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}

_CALLBACK = re.compile(r"^outbox:([0-9]{1,18})$")


def outbox_row_of(callback_data: str | None) -> int | None:
    """The outbox row id a status's `biz_opaque_callback_data` names, if it names one."""
    match = _CALLBACK.match(callback_data or "")
    return int(match.group(1)) if match else None


class MessageStatuses:
    """SQL repository of `wa_message_status`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._outbox = Outbox(db)

    async def record(self, status: Status) -> bool:
        """Store `status` unless a more advanced one is known; True when stored."""
        rank = RANK.get(status.status)
        if rank is None:
            log.info("ignoring unknown message status %r", status.status)
            return False
        error = status.errors[0] if status.errors else None
        outside = 1 if error is not None and error.code == OUTSIDE_WINDOW_CODE else 0
        if error is not None:
            log.warning("message %s failed: code %s %s", status.id, error.code, error.title or "")
        try:
            at = float(status.timestamp) if status.timestamp else time.time()
        except ValueError:
            at = time.time()
        changed = await self._db.execute(
            "INSERT INTO wa_message_status (wamid, recipient, status, rank, error_code, "
            "error_title, outside_window, status_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (wamid) DO UPDATE SET status = excluded.status, rank = excluded.rank, "
            "error_code = excluded.error_code, error_title = excluded.error_title, "
            "outside_window = excluded.outside_window, status_at = excluded.status_at, "
            "updated_at = excluded.updated_at WHERE wa_message_status.rank < excluded.rank",
            [
                status.id,
                status.recipient_id,
                status.status,
                rank,
                error.code if error else None,
                error.title if error else None,
                outside,
                at,
                time.time(),
            ],
        )
        row_id = outbox_row_of(status.biz_opaque_callback_data)
        if row_id is not None:
            reason = "outside the 24-hour window" if outside else (error.title if error else None)
            await self._outbox.mark_sent_by_status(
                row_id, status.id, status.status, error.code if error else None, reason
            )
        if status.status == "failed":
            reason = "outside the 24-hour window" if outside else (error.title if error else None)
            await self._db.execute(
                "UPDATE wa_outbox SET status = 'failed', error_code = ?, error = ? WHERE wamid = ?",
                [error.code if error else None, reason or "failed", status.id],
            )
        return changed == 1

    async def get(self, wamid: str) -> dict[str, object] | None:
        """The recorded status of the sent message `wamid` (with recipient, error code and
        title, and `outside_window`), or None when no status arrived for it."""
        return await self._db.fetchone(
            "SELECT wamid, recipient, status, error_code, error_title, outside_window "
            "FROM wa_message_status WHERE wamid = ?",
            [wamid],
        )
