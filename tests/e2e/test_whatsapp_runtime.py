"""Runtime guarantees of the WhatsApp channel through the real app: strict order per
conversation, debounce merging, outbox retries and failures, status bookkeeping."""

from __future__ import annotations

import time

import pytest

from agentgraph.clock import ManualClock
from tests.support.echo_model import EchoChatModel, GatedEchoModel, wait_for
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import (
    USER,
    channel_settings,
    post_signed,
    running_app,
    settle,
    text_message,
    webhook,
)


@pytest.fixture
async def sink():
    sink = GraphApiSink()
    async with live_server(sink.app) as url:
        sink.url = url
        yield sink


def _settings_for(engine, request, sink, **overrides):
    if engine == "sqlite":
        base = request.getfixturevalue("sqlite_settings")
    else:
        base = request.getfixturevalue("pg_settings").model_copy(
            update={
                "redis_url": request.getfixturevalue("redis_url"),
                "redis_prefix": request.getfixturevalue("redis_prefix"),
            }
        )
    return channel_settings(base, sink.url, **overrides)


@pytest.mark.parametrize("engine", ["sqlite", "postgres+redis"])
async def test_burst_of_twenty_is_answered_once_each_in_order(engine, request, sink):
    settings = _settings_for(engine, request, sink)
    async with running_app(settings, EchoChatModel(delay=0.01)) as (http, channel):
        for n in range(20):
            response = await post_signed(http, webhook([text_message(f"message {n}")]))
            assert response.status_code == 200
        await settle(channel)
    assert sink.texts(USER) == [f"echo: message {n}" for n in range(20)]


async def test_conversations_run_concurrently(sqlite_settings, sink):
    # The model lets turns through only once all eight are inside it at the same time:
    # conversations answered one after another would never get past it.
    model = GatedEchoModel(opens_at=8)
    settings = channel_settings(sqlite_settings, sink.url)
    async with running_app(settings, model) as (http, channel):
        users = [f"97250000{n:04d}" for n in range(8)]
        for user in users:
            await post_signed(http, webhook([text_message("hi", wa_id=user)]))
        await settle(channel)
    assert model.peak == 8
    assert sorted(r.body["to"] for r in sink.sends) == sorted(users)
    assert all(r.text == "echo: hi" for r in sink.sends)


async def test_messages_during_a_turn_merge_within_the_debounce_window(sqlite_settings, sink):
    # The first turn is held at the model's gate while the others arrive; the clock,
    # not a sleep, says how far apart they arrived.
    clock = ManualClock(time.time())
    model = GatedEchoModel()
    settings = channel_settings(sqlite_settings, sink.url, debounce_seconds=1.5)
    async with running_app(settings, model, clock=clock) as (http, channel):
        await post_signed(http, webhook([text_message("first")]))
        await wait_for(lambda: model.in_flight == 1)
        clock.advance(1.0)
        await post_signed(http, webhook([text_message("second")]))
        clock.advance(1.5)  # exactly the window after "second"
        await post_signed(http, webhook([text_message("third")]))
        model.open()
        await settle(channel)
    assert sink.texts(USER) == ["echo: first", "echo: second\nthird"]


async def test_messages_outside_the_window_get_their_own_turns(sqlite_settings, sink):
    clock = ManualClock(time.time())
    model = GatedEchoModel()
    settings = channel_settings(sqlite_settings, sink.url, debounce_seconds=0.1)
    async with running_app(settings, model, clock=clock) as (http, channel):
        await post_signed(http, webhook([text_message("first")]))
        await wait_for(lambda: model.in_flight == 1)
        await post_signed(http, webhook([text_message("second")]))
        clock.advance(0.3)
        await post_signed(http, webhook([text_message("third")]))
        model.open()
        await settle(channel)
    assert sink.texts(USER) == ["echo: first", "echo: second", "echo: third"]


async def test_rate_limited_and_unavailable_sends_are_retried_once_delivered(sqlite_settings, sink):
    sink.fail_next(429, 130429)
    sink.fail_next(503)
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        await post_signed(http, webhook([text_message("retry me")]))
        await settle(channel)
        rows = await channel.outbox.recent()
    assert sink.refused == 2
    assert sink.texts() == ["echo: retry me"]
    assert [(r.status, r.attempts) for r in rows] == [("sent", 3)]
    assert rows[0].wamid == sink.sends[0].wamid


@pytest.mark.parametrize(("code", "error"), [(131047, "code 131047"), (131026, "code 131026")])
async def test_client_errors_are_recorded_as_failed_not_retried(code, error, sqlite_settings, sink):
    sink.fail_next(400, code, times=3)
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        await post_signed(http, webhook([text_message("hello")]))
        await settle(channel)
        # A sweep takes every row not yet sent, due or not: a failed one is not retried.
        assert await channel.delivery.sweep(everything=True) == 0
        rows = await channel.outbox.recent()
    assert sink.refused == 1
    assert rows[0].status == "failed" and rows[0].error_code == code
    assert rows[0].error == f"Graph API answered HTTP 400: scripted failure ({error})"


async def test_retries_stop_after_the_configured_attempts(sqlite_settings, sink):
    sink.fail_next(500, None, times=10)
    settings = channel_settings(sqlite_settings, sink.url, outbox_max_attempts=3)
    async with running_app(settings) as (http, channel):
        await post_signed(http, webhook([text_message("hello")]))
        await settle(channel)
        rows = await channel.outbox.recent()
    assert sink.refused == 3
    assert rows[0].status == "failed" and rows[0].attempts == 3


def _status(wamid: str, status: str, errors=None) -> dict:
    body = {"id": wamid, "status": status, "timestamp": "1700000000", "recipient_id": USER}
    if errors:
        body["errors"] = errors
    return body


async def test_statuses_are_never_downgraded_and_131047_marks_the_window(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        await post_signed(http, webhook([text_message("hello")]))
        await settle(channel)
        wamid = sink.sends[0].wamid
        for status in ("read", "delivered", "sent"):
            await post_signed(http, webhook(statuses=[_status(wamid, status)]))
        stored = await channel.statuses.get(wamid)
        assert stored["status"] == "read"
        error = {"code": 131047, "title": "Re-engagement message", "message": "window closed"}
        await post_signed(http, webhook(statuses=[_status(wamid, "failed", [error])]))
        stored = await channel.statuses.get(wamid)
        assert stored["status"] == "failed" and stored["outside_window"] == 1
        row = (await channel.outbox.recent())[0]
        assert row.status == "failed" and row.error == "outside the 24-hour window"
        sends_before = len(sink.sends)
        assert await channel.delivery.sweep(everything=True) == 0
        assert len(sink.sends) == sends_before


async def test_acknowledgement_does_not_wait_for_the_model(sqlite_settings, sink):
    model = GatedEchoModel()
    settings = channel_settings(sqlite_settings, sink.url)
    async with running_app(settings, model) as (http, channel):
        response = await post_signed(http, webhook([text_message("slow model")]))
        # Acknowledged while the model has not answered (it cannot until the gate opens).
        assert response.status_code == 200
        await wait_for(lambda: model.in_flight == 1)
        assert sink.sends == []
        model.open()
        await settle(channel)
    assert sink.texts() == ["echo: slow model"]


async def test_a_large_batch_is_stored_at_once_and_answered_in_order(sqlite_settings, sink):
    users = [f"97250100{n:04d}" for n in range(20)]
    messages = [text_message(f"{user} #{k}", wa_id=user) for k in range(10) for user in users]
    messages.append(dict(messages[0]))  # a duplicate inside the same body
    model = GatedEchoModel()
    async with running_app(channel_settings(sqlite_settings, sink.url), model) as (http, channel):
        response = await post_signed(http, webhook(messages))
        assert response.status_code == 200
        # At the acknowledgement every message is stored, none answered yet.
        assert await channel.inbox.depth() == 200
        assert sink.sends == []
        model.open()
        await settle(channel, within=60)
    for user in users:
        assert sink.texts(user) == [f"echo: {user} #{k}" for k in range(10)]
