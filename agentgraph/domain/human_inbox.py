"""The human inbox: escalated conversations, who has them, what was said meanwhile.

`open(...)` creates the tenant's item for an escalation (by the user, a tool or a
policy) unless the conversation already has an unreleased one (a unique index makes
that atomic): priority from the ticket priority rules (`support.priority_for` on the
reason) unless given, SLA due time from the ticket response targets (urgent 1 h,
high 4 h, medium 24 h). `claim` gives a waiting item to one owner: a single
conditional UPDATE, so of two simultaneous claims exactly one wins; the loser gets
`InboxConflict` naming the owner. `unclaim` returns it to the queue, `release`
closes it (the assistant takes over). `lock_for_reply` checks, inside the caller's
transaction, that the caller may send a human reply, and `add_human_message` records
it there (the runtime stores the outbox row in the same transaction).

Every operator-facing call takes `scope` (the caller's tenant, None for a super
admin); a conversation outside it is `ConversationNotFound`, like a missing one.
Every committed change is announced on `feed` (`agentgraph.domain.inbox_feed`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentgraph.clock import Clock
from agentgraph.domain.db import Database, Executor, Row
from agentgraph.domain.inbox_feed import InboxFeed
from agentgraph.domain.inbox_records import (
    ConversationNotFound,
    InboxConflict,
    InboxItem,
    InboxMessage,
)
from agentgraph.domain.profiles import check_tenant
from agentgraph.domain.support import PRIORITIES, RESPONSE_TARGETS, priority_for
from agentgraph.domain.timestamps import as_datetime, as_optional_datetime

__all__ = ["HumanInbox"]

STATUSES = ("waiting", "claimed", "released")
REASON_MAX_LENGTH = 500

_ITEM_COLUMNS = (
    "id, tenant, thread_id, channel, phone, phone_number_id, reason, source, priority, "
    "status, assignee, assignee_name, ticket_id, acknowledged, customer_messages, "
    "human_messages, created_at, sla_due_at, last_customer_at, claimed_at, last_reply_at, "
    "released_at, release_note"
)
_MESSAGE_COLUMNS = "id, item_id, author, operator, kind, text, outbox_id, created_at"


def _item(row: Row) -> InboxItem:
    return InboxItem(
        id=int(row["id"]),
        tenant=row["tenant"],
        thread_id=row["thread_id"],
        channel=row["channel"],
        phone=row["phone"],
        phone_number_id=row["phone_number_id"],
        reason=row["reason"],
        source=row["source"],
        priority=row["priority"],
        status=row["status"],
        assignee=row["assignee"],
        assignee_name=row["assignee_name"],
        ticket_id=None if row["ticket_id"] is None else int(row["ticket_id"]),
        acknowledged=bool(row["acknowledged"]),
        customer_messages=int(row["customer_messages"]),
        human_messages=int(row["human_messages"]),
        created_at=as_datetime(row["created_at"]),
        sla_due_at=as_datetime(row["sla_due_at"]),
        last_customer_at=as_datetime(row["last_customer_at"]),
        claimed_at=as_optional_datetime(row["claimed_at"]),
        last_reply_at=as_optional_datetime(row["last_reply_at"]),
        released_at=as_optional_datetime(row["released_at"]),
        release_note=row["release_note"],
    )


def _message(row: Row) -> InboxMessage:
    return InboxMessage(
        id=int(row["id"]),
        item_id=int(row["item_id"]),
        author=row["author"],
        operator=row["operator"],
        kind=row["kind"],
        text=row["text"],
        outbox_id=None if row["outbox_id"] is None else int(row["outbox_id"]),
        created_at=as_datetime(row["created_at"]),
    )


def _scoped(sql: str, params: list[Any], scope: str | None) -> tuple[str, list[Any]]:
    if scope is None:
        return sql, params
    return sql + " AND tenant = ?", [*params, scope]


def _claimed_by_other(item: InboxItem) -> InboxConflict:
    owner = item.assignee_name or item.assignee
    return InboxConflict("claimed", f"The conversation is claimed by {owner}.")


class HumanInbox:
    """`domain.human_inbox`: the inbox items and messages (module docstring)."""

    def __init__(self, db: Database, clock: Clock, feed: InboxFeed) -> None:
        self._db = db
        self._clock = clock
        self.feed = feed

    async def announce(self, event: str, item: InboxItem) -> None:
        """Publish `event` about `item` on the feed."""
        await self.feed.publish({"event": event, "item": item.as_json(self._clock.now())})

    async def open(
        self,
        tenant: str,
        thread_id: str,
        *,
        channel: str,
        phone: str,
        reason: str,
        source: str,
        priority: str | None = None,
        ticket_id: int | None = None,
        phone_number_id: str | None = None,
    ) -> tuple[InboxItem, bool]:
        """The conversation's unreleased item, created now unless it exists; returns it
        and whether it was created (then announced as `new`)."""
        check_tenant(tenant)
        reason = " ".join(reason.split())[:REASON_MAX_LENGTH] or "The customer asked for a person."
        chosen = priority if priority in PRIORITIES else priority_for(reason)
        now = self._clock.now()
        row = await self._db.fetchone(
            "INSERT INTO inbox_items (tenant, thread_id, channel, phone, phone_number_id, "
            "reason, source, priority, status, ticket_id, created_at, sla_due_at, "
            "last_customer_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant, thread_id) WHERE status <> 'released' DO NOTHING "
            f"RETURNING {_ITEM_COLUMNS}",
            [
                tenant, thread_id, channel, phone, phone_number_id, reason, source, chosen,
                ticket_id, now, now + RESPONSE_TARGETS[chosen], now, now,
            ],
        )  # fmt: skip
        if row is not None:
            item = _item(row)
            await self.announce("new", item)
            return item, True
        existing = await self.open_item(tenant, thread_id)
        if existing is None:  # released between the two statements: open again
            return await self.open(
                tenant,
                thread_id,
                channel=channel,
                phone=phone,
                reason=reason,
                source=source,
                priority=priority,
                ticket_id=ticket_id,
                phone_number_id=phone_number_id,
            )
        return existing, False

    async def open_item(self, tenant: str, thread_id: str) -> InboxItem | None:
        """The conversation's unreleased item, or None."""
        row = await self._db.fetchone(
            f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE tenant = ? AND thread_id = ? "
            "AND status <> 'released'",
            [tenant, thread_id],
        )
        return None if row is None else _item(row)

    async def latest(self, scope: str | None, thread_id: str) -> InboxItem | None:
        """The conversation's newest item in `scope` (any status), or None."""
        sql, params = _scoped(
            f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE thread_id = ?", [thread_id], scope
        )
        row = await self._db.fetchone(sql + " ORDER BY id DESC LIMIT 1", params)
        return None if row is None else _item(row)

    async def items(
        self,
        scope: str | None,
        *,
        status: str | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        limit: int = 50,
    ) -> list[InboxItem]:
        """Items in `scope`, most pressing SLA first. `status` None means every unreleased
        item; `assignee` is an owner's subject, or `none` for unclaimed items."""
        sql, params = _scoped(f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE 1 = 1", [], scope)
        if status is None:
            sql += " AND status <> 'released'"
        else:
            sql, params = sql + " AND status = ?", [*params, status]
        if priority is not None:
            sql, params = sql + " AND priority = ?", [*params, priority]
        if assignee == "none":
            sql += " AND assignee IS NULL"
        elif assignee is not None:
            sql, params = sql + " AND assignee = ?", [*params, assignee]
        rows = await self._db.fetchall(sql + " ORDER BY sla_due_at, id LIMIT ?", [*params, limit])
        return [_item(r) for r in rows]

    async def acknowledge(self, item_id: int) -> bool:
        """Mark the customer acknowledged; True only for the first call (send it once)."""
        changed = await self._db.execute(
            "UPDATE inbox_items SET acknowledged = ? WHERE id = ? AND acknowledged = ?",
            [True, item_id, False],
        )
        return changed == 1

    async def attach_customer_message(self, item: InboxItem, text: str) -> InboxItem:
        """Record what the customer wrote while waiting; their window restarts now."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO inbox_messages (item_id, tenant, author, kind, text, created_at) "
                "VALUES (?, ?, 'customer', 'text', ?, ?)",
                [item.id, item.tenant, text, now],
            )
            row = await tx.fetchone(
                "UPDATE inbox_items SET customer_messages = customer_messages + 1, "
                f"last_customer_at = ?, updated_at = ? WHERE id = ? RETURNING {_ITEM_COLUMNS}",
                [now, now, item.id],
            )
        assert row is not None
        updated = _item(row)
        await self.announce("message", updated)
        return updated

    async def messages(self, scope: str | None, item_id: int) -> list[InboxMessage]:
        """The item's messages in order (empty for an item outside `scope`)."""
        sql, params = _scoped(
            f"SELECT {_MESSAGE_COLUMNS} FROM inbox_messages WHERE item_id = ?", [item_id], scope
        )
        return [_message(r) for r in await self._db.fetchall(sql + " ORDER BY id", params)]

    async def _refusal(self, scope: str | None, thread_id: str, known: bool) -> Exception:
        """Why a conversation with no waiting item cannot be claimed."""
        item = await self.latest(scope, thread_id)
        if item is None:
            if known:
                return InboxConflict("not_escalated", "The conversation is not escalated.")
            return ConversationNotFound(thread_id)
        if item.status == "released":
            return InboxConflict("released", "The conversation was released: the assistant has it.")
        return _claimed_by_other(item)

    async def claim(
        self, scope: str | None, thread_id: str, *, who: str, name: str, known: bool
    ) -> InboxItem:
        """Give the conversation's waiting item to `who` (shown as `name`); claiming one
        they already hold returns it. `known` says the conversation exists (for the
        error when it has no item)."""
        now = self._clock.now()
        sql, params = _scoped(
            "UPDATE inbox_items SET status = 'claimed', assignee = ?, assignee_name = ?, "
            "claimed_at = ?, updated_at = ? WHERE thread_id = ? AND status = 'waiting'",
            [who, name, now, now, thread_id],
            scope,
        )
        row = await self._db.fetchone(f"{sql} RETURNING {_ITEM_COLUMNS}", params)
        if row is not None:
            item = _item(row)
            await self.announce("claimed", item)
            return item
        current = await self.latest(scope, thread_id)
        if current is not None and current.status == "claimed" and current.assignee == who:
            return current
        raise await self._refusal(scope, thread_id, known)

    async def unclaim(
        self, scope: str | None, thread_id: str, *, who: str, anyone: bool, known: bool
    ) -> InboxItem:
        """Return the item `who` holds to the queue (`anyone`: whoever holds it)."""
        now = self._clock.now()
        sql, params = _scoped(
            "UPDATE inbox_items SET status = 'waiting', assignee = NULL, assignee_name = NULL, "
            "claimed_at = NULL, updated_at = ? WHERE thread_id = ? AND status = 'claimed'",
            [now, thread_id],
            scope,
        )
        if not anyone:
            sql, params = sql + " AND assignee = ?", [*params, who]
        row = await self._db.fetchone(f"{sql} RETURNING {_ITEM_COLUMNS}", params)
        if row is not None:
            item = _item(row)
            await self.announce("unclaimed", item)
            return item
        current = await self.latest(scope, thread_id)
        if current is not None and current.status == "waiting":
            raise InboxConflict("not_claimed", "Nobody has claimed the conversation.")
        raise await self._refusal(scope, thread_id, known)

    async def lock_for_reply(
        self, tx: Executor, scope: str | None, thread_id: str, *, who: str, known: bool
    ) -> InboxItem:
        """Inside `tx`: the item `who` holds for this conversation, locked; otherwise the
        error saying why a reply is refused (nothing is sent then)."""
        sql, params = _scoped(
            f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE thread_id = ?", [thread_id], scope
        )
        row = await tx.fetchone(sql + " ORDER BY id DESC LIMIT 1 FOR UPDATE", params)
        item = None if row is None else _item(row)
        if item is None:
            if known:
                raise InboxConflict("not_escalated", "The conversation is not escalated.")
            raise ConversationNotFound(thread_id)
        if item.status == "released":
            raise InboxConflict("released", "The conversation was released: the assistant has it.")
        if item.status == "waiting":
            raise InboxConflict("not_claimed", "Claim the conversation before replying.")
        if item.assignee != who:
            raise _claimed_by_other(item)
        return item

    async def add_human_message(
        self, tx: Executor, item: InboxItem, *, who: str, kind: str, text: str
    ) -> int:
        """Inside `tx`: record a human reply to `item`; returns the message id."""
        now = self._clock.now()
        message_id = await tx.fetchval(
            "INSERT INTO inbox_messages (item_id, tenant, author, operator, kind, text, "
            "created_at) VALUES (?, ?, 'human', ?, ?, ?, ?) RETURNING id",
            [item.id, item.tenant, who, kind, text, now],
        )
        await tx.execute(
            "UPDATE inbox_items SET human_messages = human_messages + 1, last_reply_at = ?, "
            "updated_at = ? WHERE id = ?",
            [now, now, item.id],
        )
        return int(message_id)

    async def link_outbox(self, tx: Executor, message_id: int, outbox_id: int) -> None:
        """Inside `tx`: the outbox row that carries human message `message_id`."""
        await tx.execute(
            "UPDATE inbox_messages SET outbox_id = ? WHERE id = ?", [outbox_id, message_id]
        )

    async def get(self, item_id: int) -> InboxItem:
        """The item `item_id` (any tenant: for callers that already checked it)."""
        row = await self._db.fetchone(
            f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE id = ?", [item_id]
        )
        if row is None:
            raise ConversationNotFound(str(item_id))
        return _item(row)

    async def release(self, tx: Executor, item: InboxItem, note: str | None) -> InboxItem:
        """Inside `tx`: close `item` (the assistant takes over), keeping `note`."""
        now = self._clock.now()
        row = await tx.fetchone(
            "UPDATE inbox_items SET status = 'released', released_at = ?, release_note = ?, "
            f"updated_at = ? WHERE id = ? AND status <> 'released' RETURNING {_ITEM_COLUMNS}",
            [now, note, now, item.id],
        )
        if row is None:
            raise InboxConflict("released", "The conversation was released: the assistant has it.")
        return _item(row)

    async def lock_for_release(
        self, tx: Executor, scope: str | None, thread_id: str, *, who: str, known: bool
    ) -> InboxItem:
        """Inside `tx`: the unreleased item `who` may release (waiting, or held by them)."""
        sql, params = _scoped(
            f"SELECT {_ITEM_COLUMNS} FROM inbox_items WHERE thread_id = ?", [thread_id], scope
        )
        row = await tx.fetchone(sql + " ORDER BY id DESC LIMIT 1 FOR UPDATE", params)
        item = None if row is None else _item(row)
        if item is None:
            if known:
                raise InboxConflict("not_escalated", "The conversation is not escalated.")
            raise ConversationNotFound(thread_id)
        if item.status == "released":
            raise InboxConflict("released", "The conversation was released: the assistant has it.")
        if item.status == "claimed" and item.assignee != who:
            raise _claimed_by_other(item)
        return item

    def now(self) -> datetime:
        """The inbox clock's time (window and SLA state are computed against it)."""
        return self._clock.now()
