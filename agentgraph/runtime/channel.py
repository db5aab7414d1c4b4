"""The WhatsApp channel runtime: ingest webhooks, run turns in order, send replies once.

`open_whatsapp_channel(settings, assistant)` wires the pieces for one process: the
inbox and outbox on the assistant's database, the queue, locks and rate limiter
(in-process without `REDIS_URL`, Redis otherwise) and the Graph API client (none
without `WHATSAPP_ACCESS_TOKEN`: dev mode, replies stay in the outbox). The worker
loops that take jobs from its queue are `agentgraph.runtime.worker`.

`WhatsAppChannel.ingest(body)` is all the webhook does: drop updates for other
business numbers, resolve each message's tenant and thread once, store new messages
(dedup by id), record statuses, enqueue the conversations. It never waits for a
model. `process_thread(thread_id)` holds the
conversation's lock and answers its queued messages oldest first; messages that
arrived within the debounce window of each other while a turn ran share the next
turn. For each turn the replies are committed to the outbox together with marking
the inbound messages answered, then delivered.

Crash testing: `AGENTGRAPH_CRASH_AT` names a point where the process dies
(`agentgraph.faults`); the channel holds `after_commit` (right after a turn's
outbox commit, before any send) and hands the others to the delivery and the
assistant's runner. Unset in normal operation, it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.domain.phones import mask_phone
from agentgraph.faults import Faults
from agentgraph.observability import otel
from agentgraph.runtime import replies
from agentgraph.runtime.assistant import Assistant
from agentgraph.runtime.channel_metrics import DEDUP_HITS, INBOUND
from agentgraph.runtime.conversation import Answer, ConversationPolicy, mergeable
from agentgraph.runtime.delivery import Delivery
from agentgraph.runtime.handover import Handover
from agentgraph.runtime.inbox import Inbox, InboxEntry, InboxRow
from agentgraph.runtime.locks import LocalLocks, RedisLocks, ThreadLocks
from agentgraph.runtime.outbox import Outbox
from agentgraph.runtime.queue import InProcessQueue, RedisStreamQueue, WorkQueue
from agentgraph.runtime.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from agentgraph.runtime.rejected import RejectedUpdates
from agentgraph.runtime.spans import turn_span
from agentgraph.runtime.statuses import MessageStatuses
from agentgraph.runtime.tenancy import NumberTenants
from agentgraph.runtime.turns import APOLOGY
from agentgraph.threads import mask_thread_id
from agentgraph.whatsapp.client import GraphClient
from agentgraph.whatsapp.inbound import InboundMessage
from agentgraph.whatsapp.payloads import WebhookBody
from agentgraph.whatsapp.updates import (
    ErrorUpdate,
    MessageUpdate,
    RejectedUpdate,
    StatusUpdate,
    iter_updates,
)

log = logging.getLogger(__name__)

# Queued rows of one conversation read at once.
PENDING_BATCH = 100
REDIS_CLOSE_SECONDS = 5.0


def take_batch(rows: Sequence[InboxRow], debounce_seconds: float) -> list[InboxRow]:
    """The oldest row plus the mergeable rows that followed it within the window."""
    batch = [rows[0]]
    if debounce_seconds <= 0 or not mergeable(rows[0].message):
        return batch
    for row in rows[1:]:
        if not mergeable(row.message):
            break
        if row.received_at - batch[-1].received_at > debounce_seconds:
            break
        batch.append(row)
    return batch


class WhatsAppChannel:
    """One process's channel runtime; build it with `open_whatsapp_channel`."""

    def __init__(
        self,
        *,
        settings: Settings,
        assistant: Assistant,
        queue: WorkQueue,
        locks: ThreadLocks,
        limiter: RateLimiter,
        client: GraphClient | None,
        redis: Any = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        db = assistant.persistence.domain.db
        self.settings = settings
        self.assistant = assistant
        self.queue = queue
        self.locks = locks
        self.client = client
        self.redis = redis
        self.inbox = Inbox(db, clock)
        self.pending_batch = PENDING_BATCH
        self.outbox = Outbox(db)
        self.statuses = MessageStatuses(db)
        self.rejected = RejectedUpdates(db)
        self.tenants = NumberTenants(settings)
        self.handover = Handover(
            assistant.persistence.domain,
            assistant.runner,
            self.outbox,
            assistant.runner.prompts,
            failure_limit=settings.escalate_after_failures,
        )
        self.policy = ConversationPolicy(assistant, settings, limiter, self.handover)
        self.faults = Faults.from_settings(settings)
        self.delivery = Delivery(
            self.outbox,
            client,
            max_attempts=settings.outbox_max_attempts,
            backoff_seconds=settings.outbox_backoff_seconds,
            stale_after_seconds=settings.queue_claim_idle_seconds,
            faults=self.faults,
        )

    @property
    def dev_mode(self) -> bool:
        """True without a Graph API client: replies stay in the dev outbox."""
        return self.client is None

    async def ingest(self, body: WebhookBody) -> int:
        """Store and enqueue every update of a webhook body; returns new messages."""
        expected = self.settings.whatsapp_phone_number_id
        entries: list[InboxEntry] = []
        for update in iter_updates(body):
            if expected and update.phone_number_id != expected:
                log.warning("dropped an update for another number %s", update.phone_number_id)
                continue
            if isinstance(update, RejectedUpdate):
                await self.rejected.record(
                    update.phone_number_id, update.kind, update.item_id, update.reason, update.raw
                )
            elif isinstance(update, MessageUpdate):
                try:
                    message = InboundMessage.from_update(update)
                except Exception as exc:
                    # A well-formed update this code cannot turn into a message: it is
                    # recorded and dropped, never allowed to cost the rest of the body.
                    log.exception("could not read WhatsApp message %s", update.message.id)
                    await self.rejected.record(
                        update.phone_number_id,
                        "message",
                        update.message.id,
                        f"{type(exc).__name__}: {exc}",
                        update.message,
                    )
                    continue
                tenant = self.tenants.tenant_for(message.phone_number_id)
                thread = await self.assistant.thread_id("whatsapp", tenant, "+" + message.wa_id)
                entries.append(InboxEntry(tenant, thread, message))
            elif isinstance(update, StatusUpdate):
                await self.statuses.record(update.status)
            elif isinstance(update, ErrorUpdate):
                log.warning(
                    "WhatsApp reported error %s: %s",
                    update.error.code,
                    update.error.message or update.error.title,
                )
        if not entries:
            return 0
        fresh = await self.inbox.add_many(entries)
        duplicates = len(entries) - len(fresh)
        otel.annotate(webhook_messages=len(entries), webhook_duplicates=duplicates)
        if duplicates:
            DEDUP_HITS.inc(duplicates)
        threads: dict[str, None] = {}
        for entry in fresh:
            INBOUND.labels(entry.message.kind).inc()
            threads[entry.thread_id] = None
        for thread_id in threads:
            await self.queue.put(thread_id)
        return len(fresh)

    async def process_thread(self, thread_id: str) -> None:
        """Answer the conversation's queued messages, oldest first.

        The queued rows are read once, when the lock is taken (again only when a full
        page of `pending_batch` rows was read): a message that arrives later has its
        own job behind the other conversations' jobs, so a busy conversation cannot
        jump the queue, and no query per turn is spent looking for it."""
        limit = self.pending_batch
        async with self.locks.hold(thread_id):
            unsent, rows = await self.inbox.pending_with_unsent(thread_id, limit)
            # Replies a dead worker committed but never sent go out before newer ones.
            await self.delivery.deliver(unsent)
            more = len(rows) == limit
            while rows:
                batch = take_batch(rows, self.settings.debounce_seconds)
                with turn_span(batch):
                    answered = await self._handle(batch)
                if answered is None:
                    # Another worker answered some of these rows: two workers ran this
                    # conversation (a lock was lost). Stop, and let a fresh job re-read
                    # what is still queued once it holds the lock.
                    log.warning("conversation %s answered elsewhere", mask_thread_id(thread_id))
                    await self.queue.put(thread_id)
                    return
                rows = rows[answered:]
                if not rows and more:
                    rows = await self.inbox.pending(thread_id, limit)
                    more = len(rows) == limit

    async def _handle(self, batch: list[InboxRow]) -> int | None:
        """Answer one batch; returns how many of its rows were answered (all, or a
        first part when a turn found complete covered fewer), or None when another
        worker had answered any of them (then nothing of this turn is stored or sent)."""
        messages = [row.message for row in batch]
        last = messages[-1]
        read_receipt = None
        if self.client is not None and last.kind != "reaction":
            read_receipt = asyncio.create_task(
                self.client.mark_read(last.id, phone_number_id=last.phone_number_id)
            )
        try:
            answer = await self.policy.respond(batch)
        except Exception as exc:
            log.exception("answering %s failed", mask_phone("+" + last.wa_id))
            otel.mark_error(exc)
            answer = Answer(replies.texts(APOLOGY), len(batch))
        outgoing = answer.messages
        batch = batch[: answer.rows_answered]
        otel.annotate(turn_replies=len(outgoing), turn_rows_answered=len(batch))
        committed = await self.outbox.commit_turn(
            thread_id=batch[0].thread_id,
            recipient=last.wa_id,
            phone_number_id=last.phone_number_id,
            inbound_ids=[row.message_id for row in batch],
            messages=outgoing,
            orphan_after_seconds=self.settings.queue_claim_idle_seconds,
        )
        self.faults.point("after_commit")
        if read_receipt is not None:
            try:
                await read_receipt
            except Exception as exc:
                log.info("mark-as-read failed: %s", exc)
        if not committed.answered:
            return None
        await self.delivery.deliver(committed.ids)
        return len(batch)

    async def recover(self) -> None:
        """Re-enqueue conversations with unanswered messages and send leftover replies."""
        for thread_id in await self.inbox.pending_threads():
            await self.queue.put(thread_id)
        await self.delivery.sweep(everything=True)

    async def check_queue(self) -> str:
        """Health check: the queue's kind and depth; raises when the queue cannot be read."""
        depth = await self.queue.depth()
        kind = "redis streams" if self.redis is not None else "in-process"
        return f"{kind}, depth {depth}"

    async def check_redis(self) -> str:
        """Health check: `ok` when Redis answers PING, `not configured` without Redis; raises
        when Redis does not answer."""
        if self.redis is None:
            return "not configured"
        await self.redis.ping()
        return "ok"


@asynccontextmanager
async def open_whatsapp_channel(
    settings: Settings, assistant: Assistant, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[WhatsAppChannel]:
    """The channel for this process (queue, locks, limiter, client); closed on exit.

    `clock` stamps inbound arrivals (the debounce window reads them); tests pass a
    `ManualClock`, the server and the CLI the system clock."""
    redis: Any = None
    queue: WorkQueue
    locks: ThreadLocks
    limiter: RateLimiter
    if settings.redis_url:
        import redis.asyncio as aioredis

        redis = aioredis.from_url(settings.redis_url, decode_responses=True)
        prefix = settings.redis_prefix
        queue = RedisStreamQueue(
            redis, prefix=prefix, claim_idle_seconds=settings.queue_claim_idle_seconds
        )
        locks = RedisLocks(redis, prefix=prefix, ttl_seconds=settings.lock_ttl_seconds)
        limiter = RedisRateLimiter(
            redis,
            prefix=prefix,
            per_minute=settings.rate_limit_per_minute,
            per_day=settings.rate_limit_per_day,
        )
    else:
        queue = InProcessQueue()
        locks = LocalLocks()
        limiter = MemoryRateLimiter(
            per_minute=settings.rate_limit_per_minute, per_day=settings.rate_limit_per_day
        )
    client = None
    if settings.whatsapp_access_token is not None:
        client = GraphClient(
            settings.whatsapp_api_base_url,
            settings.whatsapp_access_token.get_secret_value(),
            settings.whatsapp_phone_number_id or "",
        )
    channel = WhatsAppChannel(
        settings=settings,
        assistant=assistant,
        queue=queue,
        locks=locks,
        limiter=limiter,
        client=client,
        redis=redis,
        clock=clock,
    )
    try:
        yield channel
    finally:
        if client is not None:
            await client.aclose()
        if redis is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(redis.aclose(), timeout=REDIS_CLOSE_SECONDS)
