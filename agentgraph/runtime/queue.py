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
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Job:
    thread_id: str
    ref: str | None = None


class WorkQueue(Protocol):
    async def put(self, thread_id: str) -> None: ...
    async def take(self, max_items: int, block_seconds: float) -> list[Job]: ...
    async def reclaim(self) -> list[Job]: ...
    async def ack(self, job: Job) -> None: ...
    async def depth(self) -> int: ...


class InProcessQueue:
    """Jobs for this process only (no REDIS_URL)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: set[str] = set()

    async def put(self, thread_id: str) -> None:
        if thread_id in self._waiting:
            return
        self._waiting.add(thread_id)
        self._queue.put_nowait(thread_id)

    async def take(self, max_items: int, block_seconds: float) -> list[Job]:
        jobs: list[Job] = []
        with contextlib.suppress(TimeoutError):
            first = await asyncio.wait_for(self._queue.get(), timeout=block_seconds)
            jobs.append(Job(first))
            while len(jobs) < max_items and not self._queue.empty():
                jobs.append(Job(self._queue.get_nowait()))
        for job in jobs:
            self._waiting.discard(job.thread_id)
        return jobs

    async def reclaim(self) -> list[Job]:
        return []

    async def ack(self, job: Job) -> None:
        return None

    async def depth(self) -> int:
        return self._queue.qsize()


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


# XACK then XDEL of one entry, atomically (as MULTI/EXEC did, in one command).
_ACK = """
redis.call('xack', KEYS[1], ARGV[1], ARGV[2])
return redis.call('xdel', KEYS[1], ARGV[2])
"""


class RedisStreamQueue:
    """Jobs shared by every process through one stream and consumer group."""

    GROUP = "workers"

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
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(self.stream, self.GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def put(self, thread_id: str) -> None:
        await self._redis.xadd(self.stream, {"thread": thread_id})

    async def take(self, max_items: int, block_seconds: float) -> list[Job]:
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
                jobs.append(Job(fields["thread"], entry_id))
        return jobs

    async def reclaim(self) -> list[Job]:
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
        return [Job(fields["thread"], entry_id) for entry_id, fields in entries if fields]

    async def ack(self, job: Job) -> None:
        if job.ref is None:
            return
        await self._ack(keys=[self.stream], args=[self.GROUP, job.ref])

    async def depth(self) -> int:
        return int(await self._redis.xlen(self.stream))
