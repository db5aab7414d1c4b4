"""A reply whose sender died between Meta's acceptance and recording the send.

Every send carries `biz_opaque_callback_data = outbox:{row id}`; Meta returns it on
the message's status webhooks. At the Graph API sink, with the process crashing
right after a send (`after_send`, raise mode): a status naming the row settles it
and nothing is sent again; with no status the row is sent again once (the only
duplicate left); and a row with no status is never re-sent after a later reply of
the same conversation went out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from agentgraph.config import Settings
from agentgraph.faults import SimulatedCrash
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import WhatsAppChannel, open_whatsapp_channel
from agentgraph.runtime.outbox import UNKNOWN_DELIVERY
from agentgraph.whatsapp.payloads import parse_webhook
from tests.support.echo_model import EchoChatModel
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import PHONE_NUMBER_ID, text_message, webhook

WA_ID = "972500000077"


async def thread_of(channel) -> str:
    """The conversation's thread id (it names the user by pseudonym)."""
    return await channel.assistant.thread_id("whatsapp", "easymo", "+" + WA_ID)


@pytest.fixture
async def sink() -> AsyncIterator[GraphApiSink]:
    graph = GraphApiSink()
    async with live_server(graph.app) as url:
        graph.url = url  # type: ignore[attr-defined]
        yield graph


def _settings(base: Settings, sink: GraphApiSink, **overrides: Any) -> Settings:
    return base.model_copy(
        update={
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_access_token": SecretStr("sink-token"),
            "whatsapp_api_base_url": f"{sink.url}/v21.0",  # type: ignore[attr-defined]
            "debounce_seconds": 0.0,
            **overrides,
        }
    )


@asynccontextmanager
async def process(settings: Settings) -> AsyncIterator[WhatsAppChannel]:
    async with (
        open_assistant(settings, model=EchoChatModel()) as assistant,
        open_whatsapp_channel(settings, assistant) as channel,
    ):
        yield channel


async def _say(channel: WhatsAppChannel, text: str) -> None:
    await channel.ingest(parse_webhook(webhook([text_message(text, wa_id=WA_ID)])))
    await channel.process_thread(await thread_of(channel))


async def _crash_after_sending(base: Settings, sink: GraphApiSink, text: str) -> int:
    """A process answers `text`, Meta accepts the reply, the process dies."""
    async with process(_settings(base, sink, crash_at="after_send", crash_mode="raise")) as ch:
        with pytest.raises(SimulatedCrash):
            await _say(ch, text)
        (row,) = [r for r in await ch.outbox.recent() if r.status == "sending"]
    return row.id


def _status(row_id: int, wamid: str, status: str = "sent") -> dict[str, Any]:
    return {
        "id": wamid,
        "status": status,
        "timestamp": "1700000000",
        "recipient_id": WA_ID,
        "biz_opaque_callback_data": f"outbox:{row_id}",
    }


async def test_every_send_names_its_outbox_row(sqlite_settings, sink):
    async with process(_settings(sqlite_settings, sink)) as channel:
        await _say(channel, "hello")
        (row,) = await channel.outbox.recent()
    assert sink.sends[0].body["biz_opaque_callback_data"] == f"outbox:{row.id}"


async def test_a_status_naming_the_row_settles_it_and_nothing_is_sent_again(sqlite_settings, sink):
    row_id = await _crash_after_sending(sqlite_settings, sink, "first")
    wamid = sink.sends[0].wamid
    # Stale at once: only the status keeps the row from being sent again.
    async with process(_settings(sqlite_settings, sink, queue_claim_idle_seconds=0.0)) as ch:
        await ch.ingest(parse_webhook(webhook(statuses=[_status(row_id, str(wamid))])))
        assert await ch.delivery.sweep(everything=True) == 0
        row = await ch.outbox.get(row_id)
    assert row is not None and (row.status, row.wamid) == ("sent", wamid)
    assert sink.texts(WA_ID) == ["echo: first"]


async def test_without_any_status_the_row_is_sent_again_once(sqlite_settings, sink):
    row_id = await _crash_after_sending(sqlite_settings, sink, "first")
    async with process(_settings(sqlite_settings, sink, queue_claim_idle_seconds=0.0)) as ch:
        assert await ch.delivery.sweep(everything=True) == 1
        assert await ch.delivery.sweep(everything=True) == 0
        row = await ch.outbox.get(row_id)
    assert row is not None and row.status == "sent"
    # Meta never reported the first copy: this is the one duplicate that can happen.
    assert sink.texts(WA_ID) == ["echo: first", "echo: first"]


async def test_a_row_is_never_sent_again_after_a_later_reply_went_out(sqlite_settings, sink):
    row_id = await _crash_after_sending(sqlite_settings, sink, "first")
    # A new process answers the next message before the first row counts as stale.
    async with process(_settings(sqlite_settings, sink)) as ch:
        await _say(ch, "second")
    async with process(_settings(sqlite_settings, sink, queue_claim_idle_seconds=0.0)) as ch:
        assert await ch.delivery.sweep(everything=True) == 0
        row = await ch.outbox.get(row_id)
    assert row is not None and (row.status, row.error) == ("failed", UNKNOWN_DELIVERY)
    assert sink.texts(WA_ID) == ["echo: first", "echo: second"]


async def test_a_failed_status_naming_the_row_records_the_failure(sqlite_settings, sink):
    row_id = await _crash_after_sending(sqlite_settings, sink, "first")
    failed = {
        **_status(row_id, str(sink.sends[0].wamid), "failed"),
        "errors": [{"code": 131026, "title": "Message undeliverable"}],
    }
    async with process(_settings(sqlite_settings, sink, queue_claim_idle_seconds=0.0)) as ch:
        await ch.ingest(parse_webhook(webhook(statuses=[failed])))
        assert await ch.delivery.sweep(everything=True) == 0
        row = await ch.outbox.get(row_id)
    assert row is not None and (row.status, row.error_code) == ("failed", 131026)
    assert sink.texts(WA_ID) == ["echo: first"]
