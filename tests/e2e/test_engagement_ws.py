"""The conductor's WebSocket protocol end to end on the real app under uvicorn."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from agentgraph.config import Settings
from server.app import create_app
from tests.integration.test_engagement_service import set_confidence
from tests.support.echo_model import wait_for
from tests.support.live_server import live_server

pytestmark = pytest.mark.slow

FAST = {
    "ENGAGEMENT_TICK_SECONDS": 0.05,
    "ENGAGEMENT_WINDOW_SECONDS": 0.5,
    "ENGAGEMENT_WARMUP_TICKS": 20,
    "ENGAGEMENT_ANOMALY_COOLDOWN_SECONDS": 30,
    "ENGAGEMENT_OUTCOME_DELAY_SECONDS": 0.2,
    "ENGAGEMENT_APPROVAL_TIMEOUT_SECONDS": 0.5,
    "ENGAGEMENT_MIN_CONFIDENCE": 0.0,
}


def fast_settings(base: Settings, **extra: Any) -> Settings:
    return base.model_copy(update={k.lower(): v for k, v in {**FAST, **extra}.items()})


async def next_of(ws: ClientConnection, kind: str, within: float = 5.0) -> dict[str, Any]:
    """The next message of `kind` from the organizer feed (others are skipped)."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind!r} message within {within} s")
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=left))
        if message["type"] == kind:
            return message


async def attendees(ws: ClientConnection, *, seconds: float, lively: bool, seed: int) -> None:
    rng = random.Random(seed)
    users = [f"a{i}" for i in range(30)]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if lively:
            frame = [
                {
                    "type": rng.choice(["chat", "reaction", "poll_vote"]),
                    "user": rng.choice(users),
                    "ts": time.time(),
                }
                for _ in range(4)
            ]
            await ws.send(json.dumps(frame))
        await asyncio.sleep(0.02)


async def test_drop_leads_to_approval_intervention_and_outcome(sqlite_settings: Settings) -> None:
    settings = fast_settings(sqlite_settings, ENGAGEMENT_OUTCOME_DELAY_SECONDS=0.7)
    app = create_app(settings)
    async with live_server(app) as base:
        # Every candidate of a drop or a low includes a poll, drawn at 0.99: it wins.
        await set_confidence(app.state.engagement.store, "ev-e2e", {"poll": 0.99, "*": 0.5})
        ws_base = base.replace("http://", "ws://")
        async with httpx.AsyncClient(base_url=base) as http:
            put = await http.put("/v1/events/ev-e2e/settings", json={"mode": "MANUAL"})
            assert put.status_code == 200 and put.json()["mode"] == "MANUAL"
        async with (
            connect(f"{ws_base}/v1/events/ev-e2e/organizer") as org,
            connect(f"{ws_base}/v1/events/ev-e2e/sessions/s1/signals") as att,
        ):
            await att.send(json.dumps([{"type": "join", "user": f"a{i}"} for i in range(30)]))
            await attendees(att, seconds=1.5, lively=True, seed=1)
            score = await next_of(org, "score")
            assert score["session_id"] == "s1" and 0 <= score["score"] <= 100
            assert "user" not in json.dumps(score)

            quiet = asyncio.create_task(attendees(att, seconds=1.0, lively=False, seed=2))
            anomaly = await next_of(org, "anomaly")
            assert anomaly["anomaly_type"] in ("sudden_drop", "sustained_low")
            decision = await next_of(org, "decision")
            assert (decision["action"], decision["intervention_type"]) == ("ask", "poll")
            assert decision["confidence"] == pytest.approx(0.99, abs=0.01)
            assert decision["anomaly_type"] == anomaly["anomaly_type"]
            request = await next_of(org, "approval_request")
            assert request["id"] == decision["id"]
            assert request["deadline"] == decision["deadline"]

            await org.send(json.dumps({"type": "approve", "id": request["id"]}))
            ack = await next_of(org, "ack")
            assert ack == {"type": "ack", "id": request["id"], "accepted": True}
            intervention = await next_of(org, "intervention")
            assert intervention["id"] == request["id"]
            assert intervention["intervention_type"] == "poll"
            assert intervention["content"] and intervention["source"] == "template"
            quiet.cancel()
            recovery = asyncio.create_task(attendees(att, seconds=1.0, lively=True, seed=3))
            outcome = await next_of(org, "outcome")
            await recovery
            assert outcome["id"] == request["id"]
            assert outcome["score_after"] > outcome["score_before"]
        async with httpx.AsyncClient(base_url=base) as http:
            metrics = (await http.get("/metrics")).text
            health = (await http.get("/health/detailed")).json()
        kind = intervention["intervention_type"]
        for line in (
            f'agentgraph_engagement_interventions_total{{source="template",type="{kind}"}}',
            "agentgraph_engagement_interventions_successful_total",
            "agentgraph_engagement_success_rate",
            "agentgraph_engagement_average_confidence",
            "agentgraph_engagement_decision_seconds_count",
            'agentgraph_engagement_sessions_by_mode{mode="MANUAL"}',
            'agentgraph_engagement_llm_cost_usd{period="day"}',
            'agentgraph_engagement_llm_limit_usd{period="day"} 100.0',
        ):
            assert line in metrics, line
        assert health["components"]["engagement"]["status"] == "ok"


async def test_malformed_frames_get_errors_and_never_close(sqlite_settings: Settings) -> None:
    settings = fast_settings(sqlite_settings)
    app = create_app(settings)
    async with live_server(app) as base:
        url = base.replace("http://", "ws://") + "/v1/events/ev-bad/sessions/s1/signals"
        async with connect(url) as ws:
            for frame in (
                "not json",
                '{"type": "shout", "user": "u"}',
                "[1, 2]",
                '{"type":"chat"}',
            ):
                await ws.send(frame)
                error = json.loads(await asyncio.wait_for(ws.recv(), 2))
                assert error["type"] == "error" and error["errors"]
            await ws.send(b'{"type": "chat", "user": "u1"}')
            await ws.send(json.dumps([{"type": "chat", "user": "u2"}, {"type": "nope"}]))
            error = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert error["errors"] == [
                "item 1: unknown signal type 'nope'; expected one of "
                "['chat', 'join', 'leave', 'poll_open', 'poll_vote', 'reaction']"
            ]
            collector = app.state.engagement.collector
            await wait_for(lambda: collector.sessions() != [])
            assert collector.sessions() == [("ev-bad", "s1")]
        async with httpx.AsyncClient(base_url=base) as http:
            metrics = (await http.get("/metrics")).text
        assert 'agentgraph_engagement_malformed_frames_total{source="websocket"}' in metrics
        assert "agentgraph_engagement_active_sessions" in metrics
        assert 'agentgraph_engagement_llm_limit_usd{period="hour"} 20.0' in metrics


async def test_settings_api_validates_and_persists(sqlite_settings: Settings) -> None:
    async with (
        live_server(create_app(fast_settings(sqlite_settings))) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        got = (await http.get("/v1/events/ev-set/settings")).json()
        assert got["mode"] == "SEMI_AUTO" and got["auto_approve_threshold"] == 0.75
        assert got["max_interventions_per_hour"] == 3 and got["agent_enabled"] is True
        for bad in (
            {"mode": "YOLO"},
            {"auto_approve_threshold": 1.5},
            {"max_interventions_per_hour": -1},
            {"cooldowns": {"fireworks": 10}},
            {"cooldowns": {"poll": -5}},
            {"surprise": True},
        ):
            response = await http.put("/v1/events/ev-set/settings", json=bad)
            assert response.status_code == 422, bad
        ok = await http.put(
            "/v1/events/ev-set/settings",
            json={"mode": "AUTO", "cooldowns": {"poll": 30}, "agent_enabled": False},
        )
        assert ok.status_code == 200
        again = (await http.get("/v1/events/ev-set/settings")).json()
        assert again["mode"] == "AUTO" and again["agent_enabled"] is False
        assert again["cooldowns"]["poll"] == 30 and again["cooldowns"]["quiz"] == 300
        assert (await http.get("/v1/events/bad.id/settings")).status_code == 422


async def test_api_token_guards_the_sockets_and_settings_updates(sqlite_settings: Settings) -> None:
    settings = fast_settings(sqlite_settings, ENGAGEMENT_API_TOKEN=SecretStr("s3cret"))
    async with live_server(create_app(settings)) as base:
        ws_base = base.replace("http://", "ws://")
        for path in ("/v1/events/ev-auth/organizer", "/v1/events/ev-auth/sessions/s1/signals"):
            for suffix in ("", "?token=wrong"):
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(ws_base + path + suffix):
                        pass
                assert refused.value.response.status_code == 403
            async with connect(ws_base + path + "?token=s3cret") as ws:
                await ws.send('{"type": "nope"}')
                assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "error"
            headers = {"Authorization": "Bearer s3cret"}
            async with connect(ws_base + path, additional_headers=headers) as ws:
                await ws.send('{"type": "nope"}')
                assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "error"
        async with httpx.AsyncClient(base_url=base) as http:
            url = "/v1/events/ev-auth/settings"
            assert (await http.put(url, json={"mode": "AUTO"})).status_code == 401
            wrong = {"Authorization": "Bearer nope"}
            assert (await http.put(url, json={"mode": "AUTO"}, headers=wrong)).status_code == 401
            assert (await http.get(url)).json()["mode"] == "SEMI_AUTO"
            ok = await http.put(url + "?token=s3cret", json={"mode": "AUTO"})
            assert ok.status_code == 200
            right = {"Authorization": "Bearer s3cret"}
            ok = await http.put(url, json={"mode": "MANUAL"}, headers=right)
            assert ok.status_code == 200 and ok.json()["mode"] == "MANUAL"


async def test_nan_settings_are_refused_and_the_event_keeps_working(
    sqlite_settings: Settings,
) -> None:
    async with (
        live_server(create_app(fast_settings(sqlite_settings))) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        url = "/v1/events/ev-nan/settings"
        for body in (
            '{"cooldowns": {"poll": NaN}}',
            '{"cooldowns": {"quiz": Infinity}}',
            '{"auto_approve_threshold": NaN}',
        ):
            response = await http.put(
                url, content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 422, body
            assert response.json()["detail"]
        got = await http.get(url)
        assert got.status_code == 200 and got.json()["cooldowns"]["poll"] == 300


async def test_a_slow_organizer_keeps_its_socket(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.events import organizer as route

    released = asyncio.Event()
    real_forward = route._forward

    async def slow_forward(websocket: Any, queue: Any) -> None:
        await released.wait()
        await real_forward(websocket, queue)

    monkeypatch.setattr(route, "_forward", slow_forward)
    async with live_server(create_app(fast_settings(sqlite_settings))) as base:
        url = base.replace("http://", "ws://") + "/v1/events/ev-slow/organizer"
        async with connect(url, max_queue=None) as ws:
            for _ in range(1200):
                await ws.send('{"type": "approve"}')
            await ws.send('{"type": "approve", "id": "last"}')
            await asyncio.sleep(0.3)
            released.set()
            ack = await next_of(ws, "ack")
            assert ack == {"type": "ack", "id": "last", "accepted": False}


async def test_closed_sockets_are_swept_in_batches(sqlite_settings: Settings) -> None:
    """The app counts every finished WebSocket (refused ones too) and runs a full
    collection per batch, which frees what uvicorn leaves in reference cycles."""
    from agentgraph.runtime.heap import ConnectionSweeper

    app = create_app(fast_settings(sqlite_settings))
    swept: list[int] = []
    app.sweeper = ConnectionSweeper(every=4, collect=lambda: swept.append(1) or 0)
    async with live_server(app) as base:
        ws_base = base.replace("http://", "ws://")
        for n in range(9):
            async with connect(f"{ws_base}/v1/events/ev-sweep/sessions/s{n}/signals") as ws:
                await ws.send('{"type": "join", "user": "u"}')
        with pytest.raises(InvalidStatus):  # a refused handshake is a finished socket too
            async with connect(f"{ws_base}/v1/events/bad.id/sessions/s/signals"):
                pass
        async with httpx.AsyncClient(base_url=base) as http:
            # Plain HTTP requests are not counted.
            for _ in range(5):
                assert (await http.get("/health")).status_code == 200
        for _ in range(100):
            if app.sweeper.sweeps == 2:
                break
            await asyncio.sleep(0.02)
    assert (app.sweeper.sweeps, len(swept)) == (2, 2)
