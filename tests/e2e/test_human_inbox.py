"""The human inbox through the real app over HTTP and WebSocket: a WhatsApp customer
asks for a person, an agent sees it arrive, claims, replies (once, at the Graph API
sink), releases, and the assistant answers the next message with the human's words
in its history; bad input, races, the 24-hour window and tenants."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.domain.seed import seed_demo
from agentgraph.persistence import open_domain
from server.app import create_app
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.operators import OPERATORS, PASSWORD, bearer, password_hash
from tests.support.whatsapp import (
    USER,
    channel_settings,
    post_signed,
    settle,
    text_message,
    webhook,
)

REPLY = "Hello, this is Grace from support: I refunded your 5,000 RWF."
ACK = (
    "Thank you. A person from our team will answer you here, usually within 24 hours. "
    "Anything you write meanwhile goes straight to them."
)
RELEASED = (
    "Our team member has finished helping you. Our assistant is with you again: "
    "just write if you need anything else."
)


@pytest.fixture
async def sink():
    sink = GraphApiSink()
    async with live_server(sink.app) as url:
        sink.url = url
        yield sink


def _settings(engine: str, request: pytest.FixtureRequest, sink: GraphApiSink) -> Settings:
    if engine == "sqlite":
        base = request.getfixturevalue("sqlite_settings")
    else:
        base = request.getfixturevalue("pg_settings").model_copy(
            update={
                "redis_url": request.getfixturevalue("redis_url"),
                "redis_prefix": request.getfixturevalue("redis_prefix"),
            }
        )
    return channel_settings(base, sink.url)


async def _seed(settings: Settings) -> None:
    async with open_domain(settings) as domain:
        await seed_demo(domain)
        for email, (role, tenant) in OPERATORS.items():
            await domain.operators.add(email, password_hash(), role, tenant)


class Desk:
    """An HTTP client on the running app, with a token per operator."""

    def __init__(self, http: httpx.AsyncClient, base: str, channel: Any) -> None:
        self.http, self.base, self.channel = http, base, channel
        self.tokens: dict[str, str] = {}

    async def auth(self, email: str) -> dict[str, str]:
        if email not in self.tokens:
            response = await self.http.post(
                "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens[email] = response.json()["access_token"]
        return bearer(self.tokens[email])

    async def post(self, email: str, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=await self.auth(email))

    async def say(self, text: str, wa_id: str = USER) -> None:
        response = await post_signed(self.http, webhook([text_message(text, wa_id=wa_id)]))
        assert response.status_code == 200
        await settle(self.channel)

    def socket(self, email: str) -> Any:
        ws_base = self.base.replace("http://", "ws://")
        return connect(f"{ws_base}/api/v1/inbox/ws?token={self.tokens[email]}")


@asynccontextmanager
async def running(settings: Settings, *, clock: Any = None) -> AsyncIterator[Desk]:
    await _seed(settings)
    app = create_app(settings, clock=clock) if clock else create_app(settings)
    async with live_server(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        yield Desk(http, base, app.state.whatsapp)


async def _event(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next event of `kind` (others are skipped); a hang fails after 15 s."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
        if event["event"] == kind:
            return event


async def _escalate(desk: Desk) -> str:
    await desk.say("hi")
    await desk.say("I want to talk to a human please")
    page = await desk.http.get("/api/v1/inbox", headers=await desk.auth("agent@easymo.test"))
    [item] = page.json()["items"]
    return str(item["conversation_id"])


async def _history(desk: Desk, conversation: str) -> list[Any]:
    assistant = desk.channel.assistant
    state = await assistant.graph.aget_state({"configurable": {"thread_id": conversation}})
    return list(state.values["messages"])


@pytest.mark.parametrize("engine", ["sqlite", "postgres+redis"])
async def test_customer_reaches_a_person_and_comes_back_to_the_assistant(engine, request, sink):
    settings = _settings(engine, request, sink)
    async with running(settings) as desk:
        agent = "agent@easymo.test"
        await desk.auth(agent)
        async with desk.socket(agent) as ws:
            assert (await _event(ws, "snapshot"))["items"] == []
            await desk.say("hi")
            await desk.say("I want to talk to a human please")
            new = (await _event(ws, "new"))["item"]
            conversation = new["conversation_id"]
            assert (new["status"], new["channel"], new["source"]) == ("waiting", "whatsapp", "user")
            assert (new["priority"], new["assignee"], new["window_open"]) == ("medium", None, True)
            waited = datetime.fromisoformat(new["sla_due_at"]) - datetime.fromisoformat(
                new["waiting_since"]
            )
            assert waited == timedelta(hours=24)
            assert sink.texts(USER)[-1] == ACK
            # The request itself is the item's first customer message.
            assert (await _event(ws, "message"))["item"]["customer_messages"] == 1

            await desk.say("are you there?")
            attached = (await _event(ws, "message"))["item"]
            assert attached["customer_messages"] == 2
            assert sink.texts(USER)[-1] == ACK and sink.texts(USER).count(ACK) == 1

            claimed = await desk.post(agent, f"/api/v1/conversations/{conversation}/claim")
            assert claimed.status_code == 200, claimed.text
            assert (await _event(ws, "claimed"))["item"]["assignee_name"] == agent

            sent = await desk.post(
                agent, f"/api/v1/conversations/{conversation}/messages", {"text": REPLY}
            )
            assert sent.status_code == 201, sent.text
            assert (sent.json()["status"], sent.json()["kind"]) == ("sent", "text")
            assert (await _event(ws, "replied"))["item"]["human_messages"] == 1
            await settle(desk.channel)
            assert sink.texts(USER).count(REPLY) == 1

            released = await desk.post(
                agent,
                f"/api/v1/conversations/{conversation}/release",
                {"note": "Refund of 5,000 RWF done."},
            )
            assert released.status_code == 200, released.text
            assert released.json()["customer_notified"] is True
            assert (await _event(ws, "released"))["item"]["status"] == "released"
            assert sink.texts(USER)[-1] == RELEASED

        await desk.say("what is my balance?")
        assert sink.texts(USER)[-1] == "Your wallet balance is 0 RWF."
        assert sink.texts(USER).count(REPLY) == 1
        history = await _history(desk, conversation)
        humans = [m for m in history if m.response_metadata.get("author") == "human"]
        assert [(m.type, m.text) for m in humans] == [("ai", REPLY)]
        assert [m.text for m in history if m.type == "human"][-1] == "what is my balance?"
        page = await desk.http.get("/api/v1/inbox", headers=await desk.auth(agent))
        assert page.json()["items"] == []


async def test_refused_requests_name_why_and_send_nothing(sqlite_settings, sink):
    settings = channel_settings(sqlite_settings, sink.url)
    async with running(settings) as desk:
        await desk.say("hi")
        base = "/api/v1/conversations"
        plain = await desk.channel.assistant.thread_id("whatsapp", "easymo", "+" + USER)
        agent, other, stranger = "agent@easymo.test", "admin@easymo.test", "agent@acme.test"

        not_escalated = await desk.post(agent, f"{base}/{plain}/messages", {"text": "hello"})
        assert not_escalated.status_code == 409
        assert not_escalated.json() == {"detail": "The conversation is not escalated."}
        unknown = await desk.post(agent, f"{base}/wa:easymo:nobody/claim")
        assert (unknown.status_code, unknown.json()) == (404, {"detail": "No such conversation."})

        await desk.say("I want to talk to a human please")
        sends = len(sink.sends)
        unclaimed = await desk.post(agent, f"{base}/{plain}/messages", {"text": "hello"})
        assert (unclaimed.status_code, unclaimed.json()["detail"]) == (
            409,
            "Claim the conversation before replying.",
        )
        assert (await desk.post(agent, f"{base}/{plain}/claim")).status_code == 200
        taken = await desk.post(other, f"{base}/{plain}/claim")
        assert (taken.status_code, taken.json()["detail"]) == (
            409,
            "The conversation is claimed by agent@easymo.test.",
        )
        theirs = await desk.post(other, f"{base}/{plain}/messages", {"text": "hello"})
        assert theirs.status_code == 409 and "claimed by agent@easymo.test" in theirs.text
        for text in ("", "   ", "x" * 4097):
            bad = await desk.post(agent, f"{base}/{plain}/messages", {"text": text})
            assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "text"]
        extra = await desk.post(agent, f"{base}/{plain}/messages", {"text": "hi", "to": "+1"})
        assert extra.status_code == 422
        for path in ("claim", "unclaim", "release"):
            assert (await desk.post(stranger, f"{base}/{plain}/{path}")).status_code == 404
        foreign = await desk.post(stranger, f"{base}/{plain}/messages", {"text": "hi"})
        assert foreign.status_code == 404
        viewer = await desk.http.get("/api/v1/inbox", headers=await desk.auth("viewer@easymo.test"))
        assert viewer.status_code == 403
        listed = await desk.http.get("/api/v1/inbox", headers=await desk.auth(stranger))
        assert listed.json()["items"] == []
        assert len(sink.sends) == sends

        assert (await desk.post(agent, f"{base}/{plain}/release")).status_code == 200
        after = await desk.post(agent, f"{base}/{plain}/messages", {"text": "hello"})
        assert (after.status_code, after.json()["detail"]) == (
            409,
            "The conversation was released: the assistant has it.",
        )
        again = await desk.post(agent, f"{base}/{plain}/release")
        assert again.status_code == 409
        assert REPLY not in sink.texts() and "hello" not in sink.texts()


@pytest.mark.parametrize("engine", ["sqlite", "postgres+redis"])
async def test_two_agents_claiming_at_once_exactly_one_wins(engine, request, sink):
    settings = _settings(engine, request, sink)
    async with running(settings) as desk:
        conversation = await _escalate(desk)
        path = f"/api/v1/conversations/{conversation}/claim"
        first, second = "agent@easymo.test", "admin@easymo.test"
        await desk.auth(first), await desk.auth(second)
        answers = await asyncio.gather(desk.post(first, path), desk.post(second, path))
        assert sorted(a.status_code for a in answers) == [200, 409]
        [won] = [a for a in answers if a.status_code == 200]
        [lost] = [a for a in answers if a.status_code == 409]
        owner = won.json()["assignee_name"]
        assert lost.json()["detail"] == f"The conversation is claimed by {owner}."


async def test_a_late_reply_goes_out_as_the_template_or_is_refused(sqlite_settings, sink):
    clock = ManualClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    settings = channel_settings(sqlite_settings, sink.url)
    async with running(settings, clock=clock) as desk:
        agent, admin = "agent@easymo.test", "admin@easymo.test"
        conversation = await _escalate(desk)
        path = f"/api/v1/conversations/{conversation}"
        assert (await desk.post(agent, f"{path}/claim")).status_code == 200
        clock.advance(timedelta(hours=25).total_seconds())
        desk.tokens.clear()  # the access tokens expired with the day that passed
        page = await desk.http.get("/api/v1/inbox", headers=await desk.auth(agent))
        [item] = page.json()["items"]
        assert (item["window_open"], item["sla_breached"]) == (False, False)
        sends = len(sink.sends)

        refused = await desk.post(agent, f"{path}/messages", {"text": REPLY})
        assert refused.status_code == 409
        assert "24 hours" in refused.json()["detail"] and "template" in refused.json()["detail"]
        assert len(sink.sends) == sends

        template = {"name": "support_reply", "language": "en_US", "parameters": ["{text}"]}
        put = await desk.http.put(
            "/api/v1/inbox/template", json=template, headers=await desk.auth(admin)
        )
        assert put.status_code == 200, put.text
        sent = await desk.post(agent, f"{path}/messages", {"text": REPLY})
        assert (sent.status_code, sent.json()["kind"], sent.json()["status"]) == (
            201,
            "template",
            "sent",
        )
        body = sink.sends[-1].body
        assert body["type"] == "template"
        assert body["template"] == {
            "name": "support_reply",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": REPLY}]}],
        }
        released = await desk.post(agent, f"{path}/release")
        assert released.json()["customer_notified"] is False
        assert len(sink.sends) == sends + 1


async def test_meta_refusing_a_reply_is_recorded_and_not_retried(sqlite_settings, sink):
    settings = channel_settings(sqlite_settings, sink.url)
    async with running(settings) as desk:
        agent = "agent@easymo.test"
        conversation = await _escalate(desk)
        path = f"/api/v1/conversations/{conversation}"
        assert (await desk.post(agent, f"{path}/claim")).status_code == 200
        sink.fail_next(400, 131047)
        sent = await desk.post(agent, f"{path}/messages", {"text": REPLY})
        assert sent.status_code == 201
        assert (sent.json()["status"], sent.json()["error_code"]) == ("failed", 131047)
        sink.fail_next(503, None)
        retried = await desk.post(agent, f"{path}/messages", {"text": "second try"})
        assert retried.json()["status"] == "sent"
        assert sink.refused == 2 and sink.texts(USER).count("second try") == 1
        assert REPLY not in sink.texts(USER)


async def test_inbox_events_reach_a_socket_on_another_server_process(
    pg_settings, redis_url, redis_prefix, sink
):
    settings = channel_settings(
        pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix}),
        sink.url,
    )
    async with running(settings) as desk:
        conversation = await _escalate(desk)
        other_app = create_app(settings)
        async with live_server(other_app) as other_base:
            ws_base = other_base.replace("http://", "ws://")
            token = (await desk.auth("admin@easymo.test"))["Authorization"][7:]
            async with connect(f"{ws_base}/api/v1/inbox/ws?token={token}") as ws:
                snapshot = await _event(ws, "snapshot")
                assert [i["conversation_id"] for i in snapshot["items"]] == [conversation]
                path = f"/api/v1/conversations/{conversation}/claim"
                claim = await desk.post("agent@easymo.test", path)
                assert claim.status_code == 200
                event = await _event(ws, "claimed")
                assert event["item"]["assignee_name"] == "agent@easymo.test"


async def test_the_socket_refuses_missing_credentials_and_other_roles(sqlite_settings, sink):
    settings = channel_settings(sqlite_settings, sink.url)
    async with running(settings) as desk:
        await desk.auth("viewer@easymo.test")
        ws_base = desk.base.replace("http://", "ws://")
        for suffix in ("", "?token=garbage", f"?token={desk.tokens['viewer@easymo.test']}"):
            with pytest.raises(InvalidStatus):
                async with connect(f"{ws_base}/api/v1/inbox/ws{suffix}"):
                    pass
