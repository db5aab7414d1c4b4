"""Limits and safety of the WhatsApp channel over HTTP: STOP/START, rate limits (in
process and on Redis), the inbound length limit, the ai_agents_enabled flag, and
confirmations as reply buttons answered with a button."""

from __future__ import annotations

import pytest

from agentgraph.domain.seed import seed_demo
from agentgraph.runtime import replies
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import (
    USER,
    button_reply,
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


async def _say(http, channel, *texts: str, wa_id: str = USER) -> None:
    for text in texts:
        assert (
            await post_signed(http, webhook([text_message(text, wa_id=wa_id)]))
        ).status_code == 200
    await settle(channel)


async def test_stop_opts_out_with_one_confirmation_until_start(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        await _say(http, channel, "hello", "STOP", "are you there?", "stop", "Start", "hello again")
        profile = await channel.assistant.persistence.domain.profiles.get("easymo", "+" + USER)
    assert sink.texts() == ["echo: hello", replies.STOPPED, replies.STARTED, "echo: hello again"]
    assert profile.opted_out is False


async def test_opted_out_user_is_recorded(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        await _say(http, channel, "STOP")
        profile = await channel.assistant.persistence.domain.profiles.get("easymo", "+" + USER)
    assert profile.opted_out is True


async def test_minute_limit_answers_once_with_a_notice(sqlite_settings, sink):
    settings = channel_settings(sqlite_settings, sink.url, rate_limit_per_minute=3)
    async with running_app(settings) as (http, channel):
        await _say(http, channel, *(f"m{n}" for n in range(7)))
        await _say(http, channel, "other user", wa_id="972500000009")
    assert sink.texts(USER) == ["echo: m0", "echo: m1", "echo: m2", replies.RATE_LIMITED_MINUTE]
    assert sink.texts("972500000009") == ["echo: other user"]


async def test_day_limit_is_shared_through_redis(pg_settings, redis_url, redis_prefix, sink):
    base = pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix})
    settings = channel_settings(base, sink.url, rate_limit_per_day=2)
    async with running_app(settings) as (http, channel), running_app(settings) as (other, _):
        await _say(http, channel, "d0")
        await _say(other, channel, "d1", "d2")
        await _say(http, channel, "d3")
    assert sink.texts(USER) == ["echo: d0", "echo: d1", replies.RATE_LIMITED_DAY]


async def test_long_text_is_refused_politely(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        await _say(http, channel, "x" * 2001, "y" * 2000)
    assert sink.texts() == [replies.TOO_LONG.format(limit=2000), "echo: " + "y" * 2000]


async def test_disabled_flag_answers_with_the_menu(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        flags = channel.assistant.persistence.domain.flags
        await flags.set("easymo", "ai_agents_enabled", False)
        await _say(http, channel, "hello")
        await flags.set("easymo", "ai_agents_enabled", True)
        await _say(http, channel, "hello again")
    assert sink.texts() == [replies.MENU, "echo: hello again"]


async def test_transfer_confirmation_is_buttons_and_a_yes_button_completes_it(
    sqlite_settings, sink
):
    wa_id = "250788000001"
    async with running_app(channel_settings(sqlite_settings, sink.url), model=None) as (
        http,
        channel,
    ):
        await seed_demo(channel.assistant.persistence.domain)
        await _say(http, channel, "send 5000 to 0788000002", wa_id=wa_id)
        ask = sink.sends[-1].body
        assert ask["type"] == "interactive" and ask["interactive"]["type"] == "button"
        buttons = ask["interactive"]["action"]["buttons"]
        assert [b["reply"]["id"] for b in buttons] == ["yes", "no"]
        assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
        assert "5,000" in ask["interactive"]["body"]["text"]
        assert (
            await post_signed(http, webhook([button_reply("yes", "Yes", wa_id=wa_id)]))
        ).status_code == 200
        await settle(channel)
        domain = channel.assistant.persistence.domain
        balance = await domain.wallets.balance("easymo", "+" + wa_id)
        received = await domain.wallets.balance("easymo", "+250788000002")
        sent = await channel.outbox.recent()
    assert sink.texts(wa_id)[-1].startswith("Done: sent 5,000 RWF")
    assert [r.status for r in sent] == ["sent", "sent"]  # the question, then the receipt
    assert (balance, received) == (45_000, 55_000)
