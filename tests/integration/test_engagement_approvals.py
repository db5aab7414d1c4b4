"""MANUAL mode with an approval that never comes: the cycle waits exactly until its
deadline, then skips, records the status `timed_out` and delivers nothing, in the
service (simulated time) and on Redis (nothing reaches the attendees' channel)."""

from __future__ import annotations

import uuid
from typing import Any

import redis.asyncio as redis

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.delivery import interventions
from agentgraph.engagement.detection.simulation import HIGH, LOW
from agentgraph.engagement.service import EngagementService
from agentgraph.persistence import open_persistence
from agentgraph.threads import event_thread_id
from tests.conftest import REDIS_URL
from tests.integration.test_engagement_service import (
    TICK,
    Session,
    configure,
    feed_of,
    run,
    set_confidence,
)
from tests.support.engagement import conductor, hand_ticked

TIMED_OUT = "Skipped: approval timed out."


async def cycle_status(service: EngagementService, event_id: str, session_id: str) -> str:
    config: Any = {"configurable": {"thread_id": event_thread_id(event_id, session_id)}}
    state = await service.graph.aget_state(config)
    return str(state.values["status"])


async def first_message(pubsub: Any) -> dict[str, Any]:
    """The first published message (not a subscription notice); fails after 10 s."""
    for _ in range(100):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            return dict(message)
    raise AssertionError("nothing was published")


async def ask_and_wait(service, clock, event_id, messages) -> dict[str, Any]:
    """Drive a session into an approval request and up to one tick before its deadline,
    checking at every tick that nothing was decided meanwhile; returns the request."""
    await configure(service, event_id, mode="MANUAL")
    await set_confidence(service.store, event_id, {"poll": 0.99, "*": 0.5})
    session = Session(service, clock, event_id, "s1", seed=4)
    await run(service, clock, [session], HIGH, 150)
    await run(service, clock, [session], LOW, 180, until=lambda: messages("approval_request"))
    (request,) = messages("approval_request")
    assert request["intervention_type"] == "poll"
    deadline = request["deadline"]
    while clock.time() + TICK < deadline:
        session.feed(LOW)
        clock.advance(TICK)
        await service.tick()
        await service.drain()
        assert [d["action"] for d in messages("decision")] == ["ask"]
        assert service.pending_requests(event_id) == [request]
    assert await cycle_status(service, event_id, "s1") == "decided"
    assert deadline - TICK <= clock.time() < deadline
    clock.set(deadline)
    await service.tick()
    await service.drain()
    return request


async def test_an_unanswered_manual_approval_times_out_at_its_deadline(
    sqlite_settings: Settings,
) -> None:
    clock = ManualClock()
    async with conductor(sqlite_settings, clock) as service:
        _, messages = feed_of(service, "ev-tmo")
        request = await ask_and_wait(service, clock, "ev-tmo", messages)
        decisions = messages("decision")
        assert [(d["action"], d["intervention_type"]) for d in decisions] == [
            ("ask", "poll"),
            ("skip", "poll"),
        ]
        assert decisions[-1]["id"] == request["id"] and decisions[-1]["reasoning"] == TIMED_OUT
        assert await cycle_status(service, "ev-tmo", "s1") == "timed_out"
        assert messages("intervention") == []
        assert await interventions.recorded(service.store, "ev-tmo", request["id"]) is None
        assert await interventions.history(service.store, "ev-tmo") == []
        assert service.pending_requests("ev-tmo") == []
        assert await service.resolve("ev-tmo", request["id"], "approve") is False


async def test_a_timed_out_approval_publishes_nothing_to_the_attendees(
    pg_settings: Settings, redis_prefix: str
) -> None:
    event_id = f"ev-tmo-{uuid.uuid4().hex[:8]}"
    settings = pg_settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})
    clock = ManualClock()
    client = redis.Redis.from_url(REDIS_URL)
    attendees = client.pubsub()
    await attendees.subscribe(f"events:{event_id}:interventions")
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock, seed=7) as service,
    ):
        _, messages = feed_of(service, event_id)
        request = await ask_and_wait(service, clock, event_id, messages)
        assert messages("decision")[-1]["reasoning"] == TIMED_OUT
        assert await cycle_status(service, event_id, "s1") == "timed_out"
        # A marker published after the timeout is the first message the channel holds:
        # nothing was published before it.
        await client.publish(f"events:{event_id}:interventions", "marker")
        received = await first_message(attendees)
        assert received["data"] == b"marker"
        assert await interventions.recorded(service.store, event_id, request["id"]) is None
    await attendees.aclose()
    await client.aclose()
