"""The work queue between the webhook and the workers: "this conversation has mail".

A job names a thread, not a message: the worker that takes it processes every
queued inbox row of that thread in order, so jobs may be duplicated or coalesced
freely without losing or reordering messages.

- `InProcessQueue` (no `REDIS_URL`): an asyncio queue inside the server process; a
  thread already waiting in the queue is not queued twice.
- `RedisStreamQueue`: one Redis stream with a consumer group; every process is a
  consumer. A job is acknowledged (and deleted) only after its thread was
  processed, so a job taken by a process that dies stays pending and `reclaim()`
  hands it to a live consumer once it has been idle `claim_idle_seconds`.

With OpenTelemetry export on, `put` runs in a `queue.put` span (kind PRODUCER) and the
job carries that span's W3C `traceparent` (a `traceparent` field of the stream entry);
`process_span(job)` is the worker's `queue.process` span (kind CONSUMER), child of it,
so one trace runs from the webhook through the queue to the turn in whichever process
takes the job. Puts merged into a waiting in-process job become links of its span.
Entries without the field (export off, or written by an older version) start a new
trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentgraph.observability import otel
from agentgraph.observability.otel import Span, SpanKind


@dataclass(frozen=True)
class Job:
    """A request to process one thread; `ref` is its stream entry id (None in process).

    `traceparent` names the span that enqueued it, `links` the spans of later puts
    merged into it, `enqueued_at` is when it was queued (epoch seconds); all three are
    empty when tracing was off."""

    thread_id: str
    ref: str | None = None
    traceparent: str | None = None
    links: tuple[str, ...] = ()
    enqueued_at: float | None = None


def process_span(job: Job, system: str) -> AbstractContextManager[Span | None]:
    """The `queue.process` span a worker runs `job` in: child of the span that put it,
    linked to the puts merged into it, with the time it waited in the queue."""
    if not otel.otel_enabled():
        return otel.span("queue.process")
    links = [found for value in job.links if (found := otel.link(value)) is not None]
    attributes: otel.Attributes = {
        "messaging.system": system,
        "messaging.operation.type": "process",
        "agentgraph.thread_id": job.thread_id,
        "agentgraph.queue.merged_puts": len(job.links),
    }
    if job.enqueued_at is not None:
        attributes["agentgraph.queue.wait_ms"] = max(0.0, time.time() - job.enqueued_at) * 1000
    return otel.span(
        "queue.process",
        attributes,
        kind=SpanKind.CONSUMER,
        parent=otel.remote(job.traceparent),
        links=links,
    )


def _put_span(system: str, thread_id: str) -> AbstractContextManager[Span | None]:
    return otel.span(
        "queue.put",
        {
            "messaging.system": system,
            "messaging.operation.type": "send",
            "agentgraph.thread_id": thread_id,
        },
        kind=SpanKind.PRODUCER,
    )


class WorkQueue(Protocol):
    """What the channel needs from a queue: `InProcessQueue` or `RedisStreamQueue`."""

    async def put(self, thread_id: str) -> None:
        """Ask for the thread to be processed; the request may merge with a waiting one."""
        ...

    async def take(self, max_items: int, block_seconds: float) -> list[Job]:
        """Up to `max_items` jobs, waiting at most `block_seconds` for the first; `[]` if
        none came."""
        ...

    async def reclaim(self) -> list[Job]:
        """Jobs taken long ago and never acknowledged (their consumer died), now this
        consumer's; `[]` when there are none."""
        ...

    async def ack(self, job: Job) -> None:
        """Mark a taken job done, once its thread was processed; until then the job may
        be handed out again."""
        ...

    async def depth(self) -> int:
        """How many jobs the queue holds."""
        ...


@dataclass
class _Waiting:
    """What is known of a queued thread's job until it is taken."""

    enqueued_at: float
    traceparents: list[str] = field(default_factory=list)


class InProcessQueue:
    """Jobs for this process only (no REDIS_URL)."""

    SYSTEM = "in_process"

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: dict[str, _Waiting] = {}

    async def put(self, thread_id: str) -> None:
        """Queue the thread unless it is already waiting to be taken; never blocks."""
        with _put_span(self.SYSTEM, thread_id):
            parent = otel.traceparent()
            waiting = self._waiting.get(thread_id)
            if waiting is None:
                waiting = self._waiting[thread_id] = _Waiting(time.time())
                self._queue.put_nowait(thread_id)
            if parent is not None:
                waiting.traceparents.append(parent)

    def _job(self, thread_id: str) -> Job:
        waiting = self._waiting.pop(thread_id, None)
        if waiting is None or not waiting.traceparents:
            return Job(thread_id)
        first, *merged = waiting.traceparents
        return Job(
            thread_id, traceparent=first, links=tuple(merged), enqueued_at=waiting.enqueued_at
        )

    async def take(self, max_items: int, block_seconds: float) -> list[Job]:
        """Wait up to `block_seconds` for a job, then add those already queued, up to
        `max_items`. A taken thread may be queued again at once."""
        threads: list[str] = []
        with contextlib.suppress(TimeoutError):
            threads.append(await asyncio.wait_for(self._queue.get(), timeout=block_seconds))
            while len(threads) < max_items and not self._queue.empty():
                threads.append(self._queue.get_nowait())
        return [self._job(thread_id) for thread_id in threads]

    async def reclaim(self) -> list[Job]:
        """Always `[]`: no other consumer shares these jobs. After a crash,
        `WhatsAppChannel.recover` re-queues the inbox's unanswered conversations instead."""
        return []

    async def ack(self, job: Job) -> None:
        """Nothing to do: a taken job has left the queue (the worker re-queues a failed one)."""
        return None

    async def depth(self) -> int:
        """Threads waiting to be taken."""
        return self._queue.qsize()


def consumer_name() -> str:
    """A consumer name unique to this process: host name, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


# XACK then XDEL of one entry, atomically (as MULTI/EXEC did, in one command).
_ACK = """
redis.call('xack', KEYS[1], ARGV[1], ARGV[2])
return redis.call('xdel', KEYS[1], ARGV[2])
"""


class RedisStreamQueue:
    """Jobs shared by every process through one stream and consumer group."""

    GROUP = "workers"
    SYSTEM = "redis"

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str,
        consumer: str | None = None,
        claim_idle_seconds: float = 30.0,
    ) -> None:
        self._redis = redis
        self.stream = f"{prefix}:wa:inbound"
        self.consumer = consumer or consumer_name()
        self._claim_idle_ms = int(claim_idle_seconds * 1000)
        self._claim_cursor = "0-0"
        self._group_ready = False
        self._ack = redis.register_script(_ACK)

    async def ensure_group(self) -> None:
        """Create the stream and its `workers` group unless they exist (another process may
        race to do the same); after the first success this object does not ask again."""
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(self.stream, self.GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def put(self, thread_id: str) -> None:
        """Append a job for the thread; jobs of one thread are not merged."""
        with _put_span(self.SYSTEM, thread_id):
            fields = {"thread": thread_id}
            parent = otel.traceparent()
            if parent is not None:
                fields["traceparent"] = parent
            await self._redis.xadd(self.stream, fields)

    async def take(self, max_items: int, block_seconds: float) -> list[Job]:
        """Up to `max_items` new entries for this consumer, blocking up to `block_seconds`
        (at least 1 ms). They stay pending in the group, owned by this consumer, until `ack`."""
        await self.ensure_group()
        answer = await self._redis.xreadgroup(
            self.GROUP,
            self.consumer,
            {self.stream: ">"},
            count=max_items,
            block=max(1, int(block_seconds * 1000)),
        )
        jobs: list[Job] = []
        for _stream, entries in answer or []:
            for entry_id, fields in entries:
                jobs.append(_stream_job(entry_id, fields))
        return jobs

    async def reclaim(self) -> list[Job]:
        """Take over up to 100 entries left unacknowledged for `claim_idle_seconds`, scanning
        the group from where the previous call stopped; entries deleted meanwhile are skipped."""
        await self.ensure_group()
        cursor, entries, *_ = await self._redis.xautoclaim(
            self.stream,
            self.GROUP,
            self.consumer,
            min_idle_time=self._claim_idle_ms,
            start_id=self._claim_cursor,
            count=100,
        )
        self._claim_cursor = cursor or "0-0"
        return [_stream_job(entry_id, fields) for entry_id, fields in entries if fields]

    async def ack(self, job: Job) -> None:
        """Acknowledge and delete the job's entry in one atomic script; a job without `ref` is
        ignored."""
        if job.ref is None:
            return
        await self._ack(keys=[self.stream], args=[self.GROUP, job.ref])

    async def depth(self) -> int:
        """Entries in the stream: waiting and taken-but-unacknowledged alike (acknowledged ones
        are deleted)."""
        return int(await self._redis.xlen(self.stream))


def _stream_job(entry_id: str, fields: dict[str, str]) -> Job:
    """The job of a stream entry; its id's first part is when Redis stored it (ms)."""
    millis, _, _ = entry_id.partition("-")
    return Job(
        fields["thread"],
        entry_id,
        traceparent=fields.get("traceparent"),
        enqueued_at=int(millis) / 1000 if millis.isdigit() else None,
    )
