"""Two `agentgraph serve` processes on one Postgres database and one Redis: an
organizer connected to either sees the conductor of the other, and its verdicts
reach the process that holds the approval."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from websockets.asyncio.client import connect

from tests.e2e.test_engagement_ws import FAST, attendees, next_of
from tests.e2e.test_whatsapp_serve import _env, _serve, _stop, _upgrade

pytestmark = pytest.mark.slow


async def next_published(pubsub: Any, within: float = 10.0) -> dict[str, Any]:
    """The next message on the subscribed Redis channel."""
    async with asyncio.timeout(within):
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                return dict(json.loads(message["data"]))


async def test_an_organizer_on_one_process_runs_the_cycle_of_another(
    tmp_path, fresh_pg_url: str, redis_url: str, redis_prefix: str
) -> None:
    event_id = f"ev-two-{uuid.uuid4().hex[:8]}"
    env = _env(
        tmp_path,
        DATABASE_URL=fresh_pg_url,
        REDIS_URL=redis_url,
        AGENTGRAPH_REDIS_PREFIX=redis_prefix,
        **{
            k: str(v)
            for k, v in {
                **FAST,
                "ENGAGEMENT_APPROVAL_TIMEOUT_SECONDS": 60,
                "ENGAGEMENT_OUTCOME_DELAY_SECONDS": 60,
            }.items()
        },
    )
    _upgrade(env)
    a, url_a, log_a = await _serve(env, tmp_path / "a.log")
    b, url_b, log_b = await _serve(env, tmp_path / "b.log")
    client = redis.Redis.from_url(redis_url)
    out = client.pubsub()
    await out.subscribe(f"events:{event_id}:interventions")
    ws_a, ws_b = (u.replace("http://", "ws://") + f"/v1/events/{event_id}" for u in (url_a, url_b))
    try:
        async with httpx.AsyncClient(base_url=url_a) as http:
            put = await http.put(f"/v1/events/{event_id}/settings", json={"mode": "MANUAL"})
            assert put.status_code == 200
        async with (
            connect(f"{ws_a}/organizer") as org_a,
            connect(f"{ws_b}/organizer") as org_b,
            connect(f"{ws_b}/sessions/s1/signals") as att,
        ):
            # Signals reach process B only, so B scores the session and runs its cycle.
            await att.send(json.dumps([{"type": "join", "user": f"a{i}"} for i in range(30)]))
            await attendees(att, seconds=1.5, lively=True, seed=1)
            score = await next_of(org_a, "score", within=10)
            assert score["session_id"] == "s1"
            quiet = asyncio.create_task(attendees(att, seconds=3.0, lively=False, seed=2))
            anomaly = await next_of(org_a, "anomaly", within=10)
            assert anomaly["session_id"] == "s1"
            decision = await next_of(org_a, "decision", within=10)
            assert decision["action"] == "ask"
            request = await next_of(org_a, "approval_request", within=10)
            assert request["id"] == decision["id"]
            assert await next_of(org_b, "approval_request", within=10) == request

            # An organizer connecting to A now is sent the request held by B.
            async with connect(f"{ws_a}/organizer") as late:
                assert await next_of(late, "approval_request") == request

            await org_a.send(json.dumps({"type": "approve", "id": request["id"]}))
            ack = await next_of(org_a, "ack", within=10)
            assert ack == {"type": "ack", "id": request["id"], "accepted": True}
            intervention = await next_of(org_a, "intervention", within=10)
            assert intervention["id"] == request["id"]
            assert (await next_of(org_b, "intervention", within=10))["id"] == request["id"]
            quiet.cancel()

            published = await next_published(out)
            assert published["id"] == request["id"]
            # Exactly once: a marker published now is the channel's next message.
            await client.publish(f"events:{event_id}:interventions", '{"id": "marker"}')
            assert await next_published(out) == {"id": "marker"}

            for org in (org_a, org_b):
                await org.send(json.dumps({"type": "approve", "id": request["id"]}))
                again = await next_of(org, "ack", within=10)
                assert again == {"type": "ack", "id": request["id"], "accepted": False}
    finally:
        await out.aclose()
        await client.aclose()
        _stop(a, log_a)
        _stop(b, log_b)
