"""MANUAL mode over the organizer WebSocket when nobody answers the approval request:
the organizer sees the ask, the request and the skip at the deadline, and nothing is
executed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from agentgraph.config import Settings
from server.app import create_app
from tests.e2e.test_engagement_ws import attendees, fast_settings, next_of
from tests.integration.test_engagement_service import set_confidence
from tests.support.live_server import live_server

pytestmark = pytest.mark.slow

CYCLE = ("decision", "approval_request", "intervention", "outcome")


async def first_cycle(org: ClientConnection, settle_scores: int) -> list[dict[str, Any]]:
    """The organizer's messages about the first cycle: up to its end (a skip or an
    intervention), then during `settle_scores` more score ticks, so anything that would
    follow the end has time to show up. Later cycles (new anomalies) are left out."""
    seen: list[dict[str, Any]] = []
    first, after_end = None, None
    for _ in range(2000):  # a guard: the feed sends a score every tick
        message = json.loads(await asyncio.wait_for(org.recv(), timeout=10))
        if message["type"] in CYCLE and first in (None, message["id"]):
            first = message["id"]
            seen.append(message)
            if message["type"] == "intervention" or message.get("action") == "skip":
                after_end = after_end or 0
        elif message["type"] == "score" and after_end is not None:
            after_end += 1
            if after_end == settle_scores:
                return seen
    raise AssertionError(f"the first cycle did not end: {seen}")


async def test_an_unanswered_approval_is_skipped_and_nothing_is_executed(
    sqlite_settings: Settings,
) -> None:
    settings = fast_settings(sqlite_settings, ENGAGEMENT_DEFAULT_MODE="MANUAL")
    app = create_app(settings)
    async with live_server(app) as base:
        await set_confidence(app.state.engagement.store, "ev-tmo", {"poll": 0.99, "*": 0.5})
        ws_base = base.replace("http://", "ws://")
        async with (
            connect(f"{ws_base}/v1/events/ev-tmo/organizer") as org,
            connect(f"{ws_base}/v1/events/ev-tmo/sessions/s1/signals") as att,
        ):
            await att.send(json.dumps([{"type": "join", "user": f"a{i}"} for i in range(30)]))
            await attendees(att, seconds=1.5, lively=True, seed=1)
            await next_of(org, "score")
            quiet = asyncio.create_task(attendees(att, seconds=3.0, lively=False, seed=2))
            seen = await first_cycle(org, settle_scores=20)
            quiet.cancel()
    ask, request, skip = seen  # exactly three: no intervention, no outcome
    assert (ask["type"], ask["action"], ask["intervention_type"]) == ("decision", "ask", "poll")
    assert ask["mode"] == "MANUAL"
    assert request["type"] == "approval_request" and request["id"] == ask["id"]
    assert request["deadline"] == ask["deadline"]
    assert (skip["type"], skip["action"], skip["id"]) == ("decision", "skip", ask["id"])
    assert skip["reasoning"] == "Skipped: approval timed out."
