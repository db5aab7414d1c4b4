"""Trace context across the work queue: the W3C traceparent of the put survives the Redis
stream (and the in-process queue), the consumer's span is its child, puts merged into
one waiting job become links, and entries without a traceparent still work. Also what
a failed span exports: its exception's type, never its message."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from langgraph.errors import GraphInterrupt

from agentgraph.config import Settings
from agentgraph.observability import otel
from agentgraph.observability.otel import open_otel
from agentgraph.runtime.queue import InProcessQueue, RedisStreamQueue, process_span
from tests.support.otlp_receiver import OtlpReceiver

THREAD = "wa:easymo:abcdefghijklmnop"


@pytest.fixture
def receiver():
    with OtlpReceiver() as receiver:
        yield receiver


def traced(receiver: OtlpReceiver) -> Settings:
    return Settings(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_SERVICE_NAME="queue-test")


@pytest.fixture
async def redis_client(redis_url):
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.mark.redis
async def test_the_traceparent_survives_the_redis_stream(receiver, redis_client, redis_prefix):
    producer = RedisStreamQueue(redis_client, prefix=redis_prefix, consumer="producer")
    consumer = RedisStreamQueue(redis_client, prefix=redis_prefix, consumer="consumer")
    await consumer.ensure_group()
    async with open_otel(traced(receiver)):
        with otel.span("webhook", parent=otel.NEW_TRACE):
            await producer.put(THREAD)
        [(_, fields)] = await redis_client.xrange(producer.stream)
        [job] = await consumer.take(1, block_seconds=1)
        with process_span(job, "redis"), otel.span("turn"):
            pass
        await consumer.ack(job)
    assert fields["thread"] == THREAD and fields["traceparent"].startswith("00-")
    assert job.traceparent == fields["traceparent"] and job.enqueued_at is not None
    spans = {s.name: s for s in receiver.snapshot()}
    webhook, put, process, turn = (
        spans[n] for n in ("webhook", "queue.put", "queue.process", "turn")
    )
    assert {s.trace_id for s in spans.values()} == {webhook.trace_id}
    assert put.parent_id == webhook.span_id
    assert fields["traceparent"].startswith(f"00-{put.trace_id}-{put.span_id}-")
    assert process.parent_id == put.span_id and process.kind == "consumer"
    assert process.attributes["messaging.system"] == "redis"
    assert process.attributes["agentgraph.thread_id"] == THREAD
    assert turn.parent_id == process.span_id
    assert {s.resource["service.name"] for s in spans.values()} == {"queue-test"}


@pytest.mark.redis
async def test_an_entry_without_traceparent_is_still_a_job_and_starts_a_trace(
    receiver, redis_client, redis_prefix
):
    queue = RedisStreamQueue(redis_client, prefix=redis_prefix)
    await queue.ensure_group()
    await redis_client.xadd(queue.stream, {"thread": THREAD})  # as an older version wrote it
    async with open_otel(traced(receiver)):
        [job] = await queue.take(1, block_seconds=1)
        with process_span(job, "redis"):
            pass
        await queue.ack(job)
    assert job.thread_id == THREAD and job.traceparent is None
    [process] = receiver.snapshot()
    assert process.name == "queue.process" and process.parent_id == ""
    assert await queue.depth() == 0


@pytest.mark.redis
async def test_without_export_the_stream_entry_has_no_traceparent(redis_client, redis_prefix):
    queue = RedisStreamQueue(redis_client, prefix=redis_prefix)
    await queue.ensure_group()
    await queue.put(THREAD)
    [(_, fields)] = await redis_client.xrange(queue.stream)
    [job] = await queue.take(1, block_seconds=1)
    assert fields == {"thread": THREAD}
    assert job.traceparent is None and job.links == ()


async def test_puts_merged_into_a_waiting_in_process_job_become_links(receiver):
    queue = InProcessQueue()
    async with open_otel(traced(receiver)):
        for _ in range(3):
            with otel.span("webhook", parent=otel.NEW_TRACE):
                await queue.put(THREAD)
        [job] = await queue.take(5, block_seconds=0.1)
        with process_span(job, "in_process"):
            pass
    puts = [s for s in receiver.snapshot() if s.name == "queue.put"]
    [process] = [s for s in receiver.snapshot() if s.name == "queue.process"]
    assert len(puts) == 3 and len({p.trace_id for p in puts}) == 3
    first, *merged = puts
    assert process.trace_id == first.trace_id and process.parent_id == first.span_id
    assert process.links == [(p.trace_id, p.span_id) for p in merged]
    assert process.attributes["agentgraph.queue.merged_puts"] == 2


async def test_a_failure_is_marked_with_its_type_only_and_a_pause_is_no_failure(receiver):
    async with open_otel(traced(receiver)):
        with pytest.raises(ValueError), otel.span("turn", parent=otel.NEW_TRACE):
            raise ValueError("could not reach +250788000001")
        with pytest.raises(GraphInterrupt), otel.span("tool", parent=otel.NEW_TRACE):
            raise GraphInterrupt(())
        with otel.span("send", parent=otel.NEW_TRACE):
            otel.mark_error(KeyError("0788000001"))
    spans = {s.name: s for s in receiver.snapshot()}
    assert spans["turn"].status == "error" and spans["turn"].status_message == "ValueError"
    assert spans["turn"].attributes == {"error.type": "ValueError"}
    assert spans["tool"].status == "unset"
    assert spans["send"].status == "error" and spans["send"].status_message == "KeyError"
    assert not any(b"788000001" in s.raw for s in spans.values())  # no event, no message
