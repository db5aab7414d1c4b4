"""The WhatsApp webhook of the real app over HTTP: every shared fixture with a valid
signature, what goes out to a local Graph API sink, and every refusal."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from pydantic import SecretStr

from agentgraph.runtime import replies
from agentgraph.runtime.channel_metrics import DEDUP_HITS, WEBHOOK_REQUESTS
from server.app import create_app
from tests.support.echo_model import EchoChatModel
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    USER,
    channel_settings,
    fixture_bytes,
    fixture_names,
    post_signed,
    running_app,
    settle,
    signed_headers,
    text_message,
    webhook,
)

ECHO = "echo: "

# fixture file -> the texts the user must receive (empty: nothing is sent)
EXPECTED_REPLIES: dict[str, list[str]] = {
    "audio_voice.json": [replies.media_ack("voice")],
    "button_quick_reply.json": [ECHO + "title"],
    "contacts.json": [replies.CONTACTS_ACK],
    "interactive_with_errors.json": [replies.UNSUPPORTED],
    "location_pin.json": [ECHO + "My location: (12.25089, 43.90539)"],
    "reaction.json": [],
    "reaction_removed.json": [],
    "sticker.json": [replies.media_ack("sticker")],
    "text_reply_context.json": [ECHO + "replied text"],
    "video.json": [ECHO + "caption"],
    "status_delivered.json": [],
    "status_read.json": [],
    "status_failed_experiment.json": [],
}


@pytest.fixture
async def sink():
    sink = GraphApiSink()
    async with live_server(sink.app) as url:
        sink.url = url
        yield sink


def test_every_fixture_has_an_expectation():
    names = set(fixture_names()) - {"signed_text_raw.json"}
    assert names == set(EXPECTED_REPLIES)


@pytest.mark.parametrize("name", sorted(EXPECTED_REPLIES))
async def test_fixture_end_to_end(name, sqlite_settings, sink):
    raw = fixture_bytes(name)
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        response = await post_signed(http, raw)
        assert response.status_code == 200
        await settle(channel)
        expected = EXPECTED_REPLIES[name]
        assert sink.texts() == expected
        sent = await channel.outbox.recent()
        assert [(r.recipient, r.status) for r in sent] == [(USER, "sent")] * len(expected)
        assert [r.wamid for r in sent] == [s.wamid for s in sink.sends]
        for send in sink.sends:
            assert send.body["to"] == USER
            assert send.phone_number_id == PHONE_NUMBER_ID
            assert send.authorization == "Bearer sink-token"
        message = json.loads(raw)["entry"][0]["changes"][0]["value"].get("messages", [{}])[0]
        if "id" in message:
            # Stored once and answered (even when the answer is no reply at all).
            assert await channel.inbox.status_of(message["id"]) == "done"
        if expected:
            assert [r.body["message_id"] for r in sink.reads] == [message["id"]]
            assert sink.reads[0].body["typing_indicator"] == {"type": "text"}
        else:
            assert sink.reads == []
        if name.startswith("status_"):
            status = json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"][0]
            stored = await channel.statuses.get(status["id"])
            assert stored is not None and stored["status"] == status["status"]


async def test_signature_vector_is_accepted_as_raw_bytes(sqlite_settings, sink):
    raw = fixture_bytes("signed_text_raw.json")
    header = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"
    settings = channel_settings(sqlite_settings, sink.url, whatsapp_phone_number_id=None)
    async with running_app(settings) as (http, channel):
        response = await http.post(
            "/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": header}
        )
        assert response.status_code == 200
        await settle(channel)
        assert sink.texts() == [ECHO + "Hey there! I am using PyWa."]
        assert sink.sends[0].phone_number_id == "277321005464405"
        assert sink.sends[0].body["to"] == "972544401243"
        reparsed = json.dumps(json.loads(raw)).encode()
        refused = await http.post(
            "/webhooks/whatsapp", content=reparsed, headers={"X-Hub-Signature-256": header}
        )
        assert refused.status_code == 403


async def test_refusals_process_nothing(sqlite_settings, sink):
    good = webhook([text_message("hi")])
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        missing = await http.post("/webhooks/whatsapp", content=good)
        assert missing.status_code == 401
        wrong = await http.post(
            "/webhooks/whatsapp", content=good, headers=signed_headers(good, "not-the-secret")
        )
        assert wrong.status_code == 403
        oversize = (
            b'{"object":"whatsapp_business_account","entry":[],"pad":"'
            + b"x" * (3 * 1024 * 1024)
            + b'"}'
        )
        too_big = await post_signed(http, oversize)
        assert too_big.status_code == 413
        malformed = await post_signed(http, b'{"object": "whatsapp_business_account", "entry": [')
        assert malformed.status_code == 400
        unknown = await post_signed(http, json.dumps({"object": "page", "entry": []}).encode())
        assert unknown.status_code == 400
        deep = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 5000 + b"]" * 5000
        too_deep = await post_signed(http, deep + b"}")
        assert too_deep.status_code == 400
        assert "nested too deeply" in too_deep.json()["detail"]
        # A well-formed body whose only message cannot be read: taken (200), the
        # message recorded as rejected, nothing stored or answered.
        no_sender = json.loads(good)
        del no_sender["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
        odd = await post_signed(http, json.dumps(no_sender).encode())
        assert odd.status_code == 200
        assert await channel.inbox.depth() == 0
        assert await channel.outbox.recent() == []
        assert sink.requests == []
        (rejected,) = await channel.rejected.recent()
        assert (rejected.kind, rejected.reason) == ("message", "from: Field required")


def _hostile_messages() -> list[dict]:
    """Messages that are valid JSON but cannot be taken as they are."""
    base = {"from": USER, "timestamp": "1700000000"}
    return [
        {**base, "id": "wamid.inf", "type": "location",
         "location": {"latitude": float("inf"), "longitude": 30.0}},
        {**base, "id": "wamid.nan", "type": "location",
         "location": {"latitude": float("nan"), "longitude": 30.0}},
        {**base, "id": "wamid.far", "type": "location",
         "location": {"latitude": 123.0, "longitude": 30.0}},
        {**base, "id": "wamid.types", "type": "text", "text": {"body": 42}},
        {**base, "id": "wamid.sender", "from": "not-a-number", "type": "text",
         "text": {"body": "hi"}},
        {**base, "id": "", "type": "text", "text": {"body": "no id"}},
    ]  # fmt: skip


async def test_odd_updates_are_recorded_and_the_rest_of_the_body_is_answered(sqlite_settings, sink):
    """One signed body: good messages around every kind of hostile one. The good ones
    (a text with a lone surrogate, and one carrying an unknown field nested 900 deep,
    included) are answered once each and in order, the lone surrogate kept as "?";
    the odd ones are recorded with why; Meta gets a 200 (a 5xx would make it redeliver
    the body forever)."""
    first = text_message("first", mid="wamid.good.1")
    deep = {**text_message("deep", mid="wamid.deep"), "extra": json.loads("[" * 900 + "]" * 900)}
    surrogate = text_message("placeholder", mid="wamid.surrogate")
    last = text_message("last", mid="wamid.good.2")
    body = json.loads(webhook([first, *_hostile_messages(), deep, surrogate, last]))
    raw = json.dumps(body).replace("Infinity", "1e999").replace("placeholder", "x\\ud800y")
    raw = raw.encode()
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        response = await post_signed(http, raw)
        assert response.status_code == 200
        await settle(channel)
        rejected = {r.item_id: r for r in await channel.rejected.recent()}
    assert sink.texts(USER) == [ECHO + "first", ECHO + "deep", ECHO + "x?y", ECHO + "last"]
    assert set(rejected) == {
        "wamid.inf", "wamid.nan", "wamid.far", "wamid.types", "wamid.sender", "",
    }  # fmt: skip
    assert "latitude" in rejected["wamid.inf"].reason
    assert "text.body" in rejected["wamid.types"].reason
    assert "from" in rejected["wamid.sender"].reason
    assert all(r.kind == "message" for r in rejected.values())


async def test_a_notification_that_cannot_be_stored_is_not_acknowledged(
    sqlite_settings, sink, caplog
):
    """Storage failing (here: the inbox table is gone) answers 500, so Meta delivers
    the notification again; once storage is back the redelivery is answered once."""
    raw = webhook([text_message("hello", mid="wamid.store-fails")])
    errors = WEBHOOK_REQUESTS.labels("error")
    before = errors._value.get()
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        db = channel.assistant.persistence.domain.db
        await db.execute("ALTER TABLE wa_inbox RENAME TO wa_inbox_away")
        refused = await post_signed(http, raw)
        assert refused.status_code == 500
        assert errors._value.get() == before + 1
        assert "storing a webhook failed" in caplog.text
        await db.execute("ALTER TABLE wa_inbox_away RENAME TO wa_inbox")
        accepted = await post_signed(http, raw)
        assert accepted.status_code == 200
        await settle(channel)
        assert [s.text for s in sink.sends] == [ECHO + "hello"]


async def test_webhook_under_a_root_path(sqlite_settings, sink):
    """Behind a proxy that strips a prefix (uvicorn `--root-path /wa`: the app sees
    `/wa/webhooks/whatsapp` with root path `/wa`), the webhook is still answered."""
    settings = channel_settings(sqlite_settings, sink.url)
    app = create_app(settings, model=EchoChatModel())
    async with (
        live_server(app, root_path="/wa") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        raw = webhook([text_message("under a prefix")])
        answer = await http.post("/webhooks/whatsapp", content=raw, headers=signed_headers(raw))
        assert answer.status_code == 200
        await settle(app.state.whatsapp)
        assert [s.text for s in sink.sends] == [ECHO + "under a prefix"]


async def test_updates_for_another_number_are_dropped(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        other = webhook([text_message("not ours")], phone_number_id="999999999")
        assert (await post_signed(http, other)).status_code == 200
        # A message for our number, after it: once it is answered the queue has
        # drained, and the other number's message was never stored nor answered.
        assert (await post_signed(http, webhook([text_message("ours")]))).status_code == 200
        await settle(channel)
        stored = await channel.inbox._db.fetchval(
            "SELECT count(*) FROM wa_inbox WHERE phone_number_id = ?", ["999999999"]
        )
        assert int(stored) == 0
    assert [s.text for s in sink.sends] == [ECHO + "ours"]


async def test_batch_with_several_entries_changes_and_messages(sqlite_settings, sink):
    users = ["972500000001", "972500000002", "972500000003"]
    first = json.loads(
        webhook([text_message("a1", wa_id=users[0]), text_message("a2", wa_id=users[0])])
    )
    second = json.loads(webhook([text_message("b1", wa_id=users[1])]))
    third = json.loads(webhook([text_message("c1", wa_id=users[2])]))
    first["entry"][0]["changes"].append(second["entry"][0]["changes"][0])
    first["entry"].append(third["entry"][0])
    raw = json.dumps(first).encode()
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        assert (await post_signed(http, raw)).status_code == 200
        await settle(channel)
    assert sink.texts(users[0]) == [ECHO + "a1", ECHO + "a2"]
    assert sink.texts(users[1]) == [ECHO + "b1"]
    assert sink.texts(users[2]) == [ECHO + "c1"]


async def test_verification_handshake(sqlite_settings):
    async with running_app(channel_settings(sqlite_settings, None)) as (http, _):
        ok = await http.get(
            "/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "verify-me",
                "hub.challenge": "42",
            },
        )
        assert ok.status_code == 200 and ok.text == "42"
        wrong = await http.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"},
        )
        assert wrong.status_code == 403
        bad_mode = await http.get(
            "/webhooks/whatsapp",
            params={
                "hub.mode": "unsubscribe",
                "hub.verify_token": "verify-me",
                "hub.challenge": "1",
            },
        )
        assert bad_mode.status_code == 403


async def test_duplicates_produce_one_turn(sqlite_settings, sink):
    raw = webhook([text_message("only once", mid="wamid.dup.1")])
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, channel):
        before = DEDUP_HITS._value.get()
        results = await asyncio.gather(*(post_signed(http, raw) for _ in range(5)))
        assert [r.status_code for r in results] == [200] * 5
        await settle(channel)
        assert (await post_signed(http, raw)).status_code == 200
        await settle(channel)
        assert sink.texts() == [ECHO + "only once"]
        assert await channel.inbox.status_of("wamid.dup.1") == "done"
        sent = await channel.outbox.recent()
        assert [(r.inbound_id, r.status) for r in sent] == [("wamid.dup.1", "sent")]
        assert DEDUP_HITS._value.get() - before == 5


async def test_dev_mode_keeps_replies_in_the_local_outbox(sqlite_settings):
    async with running_app(channel_settings(sqlite_settings, None)) as (http, channel):
        assert channel.dev_mode
        assert (await post_signed(http, webhook([text_message("hello dev")]))).status_code == 200
        other = text_message("hello from someone else", wa_id="250788000009")
        assert (await post_signed(http, webhook([other]))).status_code == 200
        await settle(channel)
        outbox = (await http.get("/dev/outbox", params={"to": USER})).json()["messages"]
        assert [m["message"]["text"]["body"] for m in outbox] == [ECHO + "hello dev"]
        assert outbox[0]["status"] == "dev" and outbox[0]["to"] == USER
        everyone = (await http.get("/dev/outbox")).json()["messages"]
        assert [m["to"] for m in everyone] == [USER, "250788000009"]
        assert (await http.get("/dev/outbox", params={"to": "+2507"})).status_code == 422


async def test_dev_outbox_is_hidden_with_a_real_token(sqlite_settings, sink):
    async with running_app(channel_settings(sqlite_settings, sink.url)) as (http, _):
        assert (await http.get("/dev/outbox")).status_code == 404


async def test_without_an_app_secret_unsigned_posts_are_taken_and_start_up_warns(
    sqlite_settings, caplog
):
    settings = channel_settings(sqlite_settings, None, whatsapp_app_secret=None)
    with caplog.at_level("WARNING", logger="server.app"):
        async with running_app(settings) as (http, channel):
            raw = webhook([text_message("hello")])
            response = await http.post(
                "/webhooks/whatsapp", content=raw, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 200
            await settle(channel)
            outbox = (await http.get("/dev/outbox")).json()["messages"]
    assert [m["message"]["text"]["body"] for m in outbox] == [ECHO + "hello"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "server.app"]
    assert any("accepts unsigned notifications" in w for w in warnings)


def test_production_mode_requires_an_app_secret(sqlite_settings):
    from agentgraph.config import ConfigError
    from server.app import create_app

    with pytest.raises(ConfigError, match="WHATSAPP_APP_SECRET"):
        create_app(sqlite_settings.model_copy(update={"production": True}))
    no_jwt_secret = {"production": True, "whatsapp_app_secret": APP_SECRET}
    with pytest.raises(ConfigError, match="AGENTGRAPH_JWT_SECRET"):
        create_app(sqlite_settings.model_copy(update=no_jwt_secret))
    # The event routes then take operator credentials: ENGAGEMENT_API_TOKEN is optional.
    assert create_app(
        sqlite_settings.model_copy(update={**no_jwt_secret, "jwt_secret": SecretStr("j" * 32)})
    )
