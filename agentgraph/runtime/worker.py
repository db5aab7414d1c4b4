"""Worker loops of the WhatsApp channel: take queued conversations and answer them.

`run_worker(channel)` takes jobs from the channel's queue and runs up to
`AGENTGRAPH_WORKER_CONCURRENCY` conversations at once (one turn at a time per
conversation, through the channel's thread locks). A job is acknowledged only after
its conversation was processed; a failed job is retried (in-process: re-queued
after a second; Redis: reclaimed after `AGENTGRAPH_QUEUE_CLAIM_IDLE_SECONDS`). Once a
second it also reclaims jobs of dead consumers, retries due outbox rows and updates
the queue-depth gauge.

`consuming(channel)` runs the loop for the life of a block: it first re-enqueues
conversations left unanswered and sends replies left unsent (crash recovery), and
on exit stops the loop between queue reads. The server runs it unless
`AGENTGRAPH_SERVER_CONSUMES_QUEUE=false`; `agentgraph worker` runs it without HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agentgraph.runtime.channel import WhatsAppChannel
from agentgraph.runtime.channel_metrics import QUEUE_DEPTH
from agentgraph.runtime.queue import Job, process_span

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 1.0
TAKE_BLOCK_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0


async def run_worker(channel: WhatsAppChannel, stop: asyncio.Event | None = None) -> None:
    """Consume the channel's queue until `stop` is set (or the task is cancelled).

    Stopping through `stop` lets a blocking queue read (Redis XREADGROUP, at most
    `TAKE_BLOCK_SECONDS`) return by itself: cancelling redis-py in the middle of a
    blocking read could leave the task waiting forever, which stalled server
    shutdown. Turns still running when the loop ends get `STOP_GRACE_SECONDS` to
    finish; then they are cancelled (their messages stay queued and are answered
    after a restart or by another worker)."""
    stop = stop or asyncio.Event()
    slots = asyncio.Semaphore(channel.settings.worker_concurrency)
    running: set[asyncio.Task[None]] = set()
    kind = "in_process" if channel.redis is None else "redis"

    async def work(job: Job) -> None:
        try:
            with process_span(job, kind):
                await channel.process_thread(job.thread_id)
                await channel.queue.ack(job)
        except Exception:
            log.exception("processing a conversation failed; it will be retried")
            if channel.redis is None:
                await asyncio.sleep(1.0)
                await channel.queue.put(job.thread_id)
        finally:
            slots.release()

    def start(job: Job) -> None:
        task = asyncio.create_task(work(job))
        running.add(task)
        task.add_done_callback(running.discard)

    async def housekeeping() -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                for job in await channel.queue.reclaim():
                    await slots.acquire()
                    start(job)
                await channel.delivery.sweep()
                QUEUE_DEPTH.set(await channel.inbox.depth())
            except Exception:
                log.exception("worker housekeeping failed")

    keeper = asyncio.create_task(housekeeping())
    try:
        while not stop.is_set():
            await slots.acquire()
            try:
                jobs = await channel.queue.take(1, block_seconds=TAKE_BLOCK_SECONDS)
            except Exception:
                slots.release()
                log.exception("reading the queue failed")
                await asyncio.sleep(1.0)
                continue
            if not jobs:
                slots.release()
                continue
            start(jobs[0])
    finally:
        keeper.cancel()
        if running:  # turns in flight get a grace period to finish and send
            await asyncio.wait(set(running), timeout=STOP_GRACE_SECONDS)
        for task in list(running):
            task.cancel()
        _, stuck = await asyncio.wait({keeper, *running}, timeout=STOP_GRACE_SECONDS)
        if stuck:
            log.warning(
                "%d worker tasks did not stop within %.0f s", len(stuck), STOP_GRACE_SECONDS
            )


@asynccontextmanager
async def consuming(channel: WhatsAppChannel) -> AsyncIterator[None]:
    """Recover unfinished work, then run the worker loop until the block exits."""
    await channel.recover()
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(channel, stop))
    try:
        yield
    finally:
        # The loop ends by itself within one queue read; cancelling is the fallback.
        stop.set()
        done, _ = await asyncio.wait({worker}, timeout=TAKE_BLOCK_SECONDS + 2 * STOP_GRACE_SECONDS)
        if not done:
            worker.cancel()
            await asyncio.wait({worker}, timeout=STOP_GRACE_SECONDS)
