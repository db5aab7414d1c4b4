"""OpenTelemetry through the real app: a WhatsApp message that calls a tool is one trace
webhook -> queue.put -> queue.process -> turn -> tool / send, exported over OTLP/HTTP
to a local receiver, with no phone number in it; without an endpoint nothing is
recorded and no exporter thread runs."""

from __future__ import annotations

import json
import threading

import pytest

from agentgraph.domain.seed import seed_demo
from agentgraph.observability import otel
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.support.whatsapp import (
    WorkerProcess,
    channel_settings,
    post_signed,
    running_app,
    settle,
    text_message,
    webhook,
    worker_env,
)

WA_ID = "250788000001"  # a seeded demo user with 50,000 RWF
OURS = {"webhook", "queue.put", "queue.process", "turn", "tool", "send", "engagement.tick"}


@pytest.fixture
async def sink():
    sink = GraphApiSink()
    async with live_server(sink.app) as url:
        sink.url = url
        yield sink


@pytest.fixture
def receiver():
    with OtlpReceiver() as receiver:
        yield receiver


def exporter_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("OtelBatch")]


def only(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


async def test_a_tool_calling_message_is_one_trace_from_webhook_to_send(
    sqlite_settings, sink, receiver
):
    settings = channel_settings(sqlite_settings, sink.url, otel_exporter_otlp_endpoint=receiver.url)
    async with running_app(settings, model=None) as (http, channel):
        assert otel.otel_enabled()
        await seed_demo(channel.assistant.persistence.domain)
        raw = webhook([text_message("what is my balance", wa_id=WA_ID)])
        assert (await post_signed(http, raw)).status_code == 200
        await settle(channel)
        assert (await http.get("/health")).status_code == 200
    # The lifespan's exit flushed every span; export is off again.
    assert not otel.otel_enabled()
    assert sink.texts(WA_ID) == ["Your wallet balance is 50,000 RWF."]
    spans = receiver.snapshot()
    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
    # Only agentgraph's spans: FastAPI's own request spans stay off (no /health span).
    assert {s.name for s in spans} <= OURS

    hook = only(spans, "webhook")
    put, process, turn, send = (
        only(spans, name) for name in ("queue.put", "queue.process", "turn", "send")
    )
    tools = [s for s in spans if s.name == "tool"]
    trace = {s.trace_id for s in [hook, put, process, turn, send, *tools]}
    assert trace == {hook.trace_id}
    assert hook.parent_id == "" and hook.kind == "server"
    assert put.parent_id == hook.span_id and put.kind == "producer"
    assert process.parent_id == put.span_id and process.kind == "consumer"
    assert turn.parent_id == process.span_id
    assert send.parent_id == turn.span_id and send.kind == "client"
    assert tools and all(t.parent_id == turn.span_id for t in tools)

    assert hook.attributes["http.response.status_code"] == 200
    assert hook.attributes["agentgraph.webhook_outcome"] == "ok"
    assert hook.attributes["agentgraph.webhook_messages"] == 1
    assert put.attributes["messaging.system"] == "in_process"
    assert process.attributes["agentgraph.queue.wait_ms"] >= 0
    assert turn.attributes["agentgraph.tenant"] == "easymo"
    assert turn.attributes["agentgraph.channel"] == "whatsapp"
    assert turn.attributes["agentgraph.thread_id"].startswith("wa:easymo:")
    assert turn.attributes["agentgraph.turn.messages"] == 1
    assert turn.attributes["agentgraph.turn_replies"] == 1
    # Triage hands off to the payment agent, which checks the balance.
    assert [
        (t.attributes["agentgraph.agent"], t.attributes["gen_ai.tool.name"]) for t in tools
    ] == [("triage", "transfer_to_payment"), ("payment", "check_balance")]
    assert tools[1].attributes["agentgraph.tool_status"] == "success"
    assert tools[0].end_ns <= tools[1].start_ns and tools[1].end_ns <= send.start_ns
    assert send.attributes["agentgraph.send_outcome"] == "sent"
    assert all(s.status != "error" for s in spans)
    assert {s.resource["service.name"] for s in spans} == {"agentgraph"}

    # No phone number, in any form, anywhere in what left the process.
    exported = json.dumps([[s.name, s.attributes, s.resource] for s in spans])
    for form in (WA_ID, "+" + WA_ID, "0788000001", "788000001"):
        assert form not in exported
        assert all(form.encode() not in s.raw for s in spans)
    assert "what is my" not in exported and "50,000" not in exported  # nor any text


async def test_without_an_endpoint_nothing_is_recorded_and_no_exporter_runs(
    sqlite_settings, sink, receiver
):
    assert sqlite_settings.otel_exporter_otlp_endpoint is None
    settings = channel_settings(sqlite_settings, sink.url)
    async with running_app(settings) as (http, channel):
        assert not otel.otel_enabled()
        assert exporter_threads() == []
        assert (await post_signed(http, webhook([text_message("hello")]))).status_code == 200
        await settle(channel)
        with otel.span("turn") as span:
            assert span is None
            assert otel.traceparent() is None
    assert sink.texts() == ["echo: hello"]
    assert exporter_threads() == []
    assert receiver.requests == 0


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
async def test_one_trace_crosses_the_redis_queue_into_an_agentgraph_worker_process(
    pg_settings, redis_url, redis_prefix, sink, receiver, tmp_path
):
    settings = channel_settings(
        pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix}),
        sink.url,
        server_consumes_queue=False,
        otel_exporter_otlp_endpoint=receiver.url,
    )
    env = worker_env(
        settings,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="agentgraph-worker",
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    async with running_app(settings) as (http, channel):
        await seed_demo(channel.assistant.persistence.domain)
        worker = WorkerProcess(env, tmp_path / "worker.log")
        try:
            await worker.wait_ready()
            raw = webhook([text_message("what is my balance", wa_id=WA_ID)])
            assert (await post_signed(http, raw)).status_code == 200
            await settle(channel)
        finally:
            await worker.stop()  # SIGTERM: the worker flushes its spans before it exits
    assert sink.texts(WA_ID) == ["Your wallet balance is 50,000 RWF."]
    spans = receiver.snapshot()
    hook, put, process, turn, send = (
        only(spans, n) for n in ("webhook", "queue.put", "queue.process", "turn", "send")
    )
    tools = [s for s in spans if s.name == "tool"]
    assert {s.trace_id for s in [hook, put, process, turn, send, *tools]} == {hook.trace_id}
    assert {s.resource["service.name"] for s in (hook, put)} == {"agentgraph"}
    assert {s.resource["service.name"] for s in (process, turn, send, *tools)} == {
        "agentgraph-worker"
    }
    assert put.parent_id == hook.span_id and put.attributes["messaging.system"] == "redis"
    assert process.parent_id == put.span_id and process.attributes["messaging.system"] == "redis"
    assert turn.parent_id == process.span_id and send.parent_id == turn.span_id
    assert [t.attributes["gen_ai.tool.name"] for t in tools] == [
        "transfer_to_payment",
        "check_balance",
    ]
    exported = json.dumps([[s.name, s.attributes] for s in spans])
    assert WA_ID not in exported and "788000001" not in exported
