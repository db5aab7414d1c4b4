"""Trips and bookings reach WhatsApp users as list messages, and picking a row acts on
it (offline model, demo data, real app over HTTP)."""

from __future__ import annotations

import pytest

from agentgraph.domain.seed import seed_demo
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import (
    button_reply,
    channel_settings,
    message_id,
    post_signed,
    running_app,
    settle,
    text_message,
    webhook,
)

WA_ID = "250788000001"


@pytest.fixture
async def sink():
    sink = GraphApiSink()
    async with live_server(sink.app) as url:
        sink.url = url
        yield sink


def _list_reply(row_id: str) -> dict:
    return {
        "from": WA_ID,
        "id": message_id(),
        "timestamp": "1700000000",
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": "row"}},
    }


async def test_trip_search_is_a_list_and_a_picked_row_books_it(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url), model=None) as (
        http,
        channel,
    ):
        await seed_demo(channel.assistant.persistence.domain)
        raw = webhook([text_message("buses from Kigali to Huye tomorrow", wa_id=WA_ID)])
        assert (await post_signed(http, raw)).status_code == 200
        await settle(channel)
        listed = sink.sends[-1].body
        assert listed["type"] == "interactive" and listed["interactive"]["type"] == "list"
        assert listed["interactive"]["body"]["text"].startswith("Trips from Kigali to Huye")
        rows = listed["interactive"]["action"]["sections"][0]["rows"]
        assert 0 < len(rows) <= 10
        assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)
        assert rows[0]["id"].startswith("book trip ")
        domain = channel.assistant.persistence.domain
        # A double tap on the row: two picks 0.3 s apart. Each asks for a yes (the
        # second supersedes the first question); nothing is booked or paid yet.
        for _ in range(2):
            raw = webhook([_list_reply(rows[0]["id"])])
            assert (await post_signed(http, raw)).status_code == 200
        await settle(channel)
        question = sink.sends[-1].body
        assert question["interactive"]["type"] == "button"
        assert question["interactive"]["body"]["text"].startswith("Book 1 seat(s) on trip ")
        assert await domain.bookings.list_for("easymo", "+" + WA_ID) == []
        assert await domain.wallets.balance("easymo", "+" + WA_ID) == 50_000
        yes = webhook([button_reply("yes", "Yes", wa_id=WA_ID)])
        assert (await post_signed(http, yes)).status_code == 200
        await settle(channel)
        booked = sink.texts(WA_ID)[-1]
        bookings = await domain.bookings.list_for("easymo", "+" + WA_ID)
        balance = await domain.wallets.balance("easymo", "+" + WA_ID)
    assert booked.startswith("Booked: booking"), booked
    assert len(bookings) == 1 and f"trip {bookings[0].trip_id}" in rows[0]["id"]
    assert balance == 50_000 - bookings[0].amount


async def test_a_shared_location_starts_a_trip_search_from_the_nearest_city(sqlite_settings, sink):
    pin = {
        "from": WA_ID,
        "id": message_id(),
        "timestamp": "1700000000",
        "type": "location",
        "location": {"latitude": -1.95, "longitude": 30.06},
    }
    async with running_app(channel_settings(sqlite_settings, sink.url), model=None) as (
        http,
        channel,
    ):
        await seed_demo(channel.assistant.persistence.domain)
        assert (await post_signed(http, webhook([pin]))).status_code == 200
        await settle(channel)
        assert "from Kigali" in sink.texts(WA_ID)[-1]
        raw = webhook([text_message("to Huye", wa_id=WA_ID)])
        assert (await post_signed(http, raw)).status_code == 200
        await settle(channel)
    listed = sink.sends[-1].body
    assert listed["interactive"]["type"] == "list"
    assert listed["interactive"]["body"]["text"].startswith("Trips from Kigali to Huye")
