"""The organizer feed across processes, in one process: two hubs and relays on one
Redis prefix stand for two server processes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as redis
from langgraph.store.memory import InMemoryStore

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement import telemetry
from agentgraph.engagement.delivery.organizer_hub import OrganizerHub
from agentgraph.engagement.delivery.organizer_relay import OrganizerRelay
from agentgraph.engagement.detection.simulation import HIGH, LOW
from agentgraph.engagement.pending import Pending, save_pending
from agentgraph.persistence import open_persistence
from server.events import open_organizer_relay
from tests.integration.test_engagement_redis import wait_for
from tests.integration.test_engagement_service import (
    Session,
    configure,
    feed_of,
    run,
    set_confidence,
)
from tests.support.engagement import hand_ticked
from tests.support.live_server import free_port

pytestmark = pytest.mark.redis

Queue = asyncio.Queue[dict[str, Any]]


class Approvals:
    """A process's cycles, reduced to the approvals they hold."""

    def __init__(self, *held: str) -> None:
        self.held = set(held)
        self.requests: list[dict[str, Any]] = []

    async def resolve(self, event_id: str, approval_id: str, verdict: str) -> bool:
        if approval_id in self.held:
            self.held.discard(approval_id)
            return True
        return False

    def pending_requests(self, event_id: str) -> list[dict[str, Any]]:
        return list(self.requests)


class Process:
    def __init__(self, hub: OrganizerHub, relay: OrganizerRelay, approvals: Approvals) -> None:
        self.hub, self.relay, self.approvals = hub, relay, approvals


@asynccontextmanager
async def process(
    url: str,
    prefix: str,
    *,
    approvals: Approvals | None = None,
    observes: Callable[[str, str], bool] = lambda event_id, session_id: False,
    store: InMemoryStore | None = None,
    name: str = "relay",
) -> AsyncIterator[Process]:
    client = redis.Redis.from_url(url, client_name=name, socket_connect_timeout=1)
    hub = OrganizerHub()
    approvals = approvals or Approvals()
    relay = OrganizerRelay(
        client,
        hub,
        origin=name,
        prefix=prefix,
        approvals=approvals,
        observes=observes,
        store=store or InMemoryStore(),
        clock=ManualClock(),
    )
    task = asyncio.create_task(relay.run())
    try:
        yield Process(hub, relay, approvals)
    finally:
        relay.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()


async def received(queue: Queue, until_id: str, within: float = 5.0) -> list[Any]:
    """The ids taken from the queue up to and including `until_id`."""
    ids: list[Any] = []
    async with asyncio.timeout(within):
        while not ids or ids[-1] != until_id:
            ids.append((await queue.get()).get("id"))
    return ids


async def test_every_organizer_gets_every_process_message_once_in_order(
    redis_url: str, redis_prefix: str
) -> None:
    async with (
        process(redis_url, redis_prefix, name="a") as a,
        process(redis_url, redis_prefix, name="b") as b,
    ):
        await wait_for(lambda: a.relay.connected and b.relay.connected)
        on_a, on_b = a.hub.subscribe("ev1"), b.hub.subscribe("ev1")
        other_event = a.hub.subscribe("ev2")
        sent = [f"m{i}" for i in range(50)]
        for message_id in sent:
            b.hub.publish("ev1", {"type": "decision", "id": message_id})
        assert await received(on_a, "m49") == sent
        # B's organizers got them at once; a marker from A after them shows B never
        # delivered its own messages a second time, and A's marker reaches A once.
        a.hub.publish("ev1", {"type": "decision", "id": "marker"})
        assert await received(on_b, "marker") == [*sent, "marker"]
        assert await received(on_a, "marker") == ["marker"]
        a.hub.publish("ev2", {"type": "decision", "id": "ev2-marker"})
        assert await received(other_event, "ev2-marker") == ["ev2-marker"]


async def test_scores_of_a_session_observed_here_are_not_taken_from_another_process(
    redis_url: str, redis_prefix: str
) -> None:
    async with (
        process(redis_url, redis_prefix, name="a", observes=lambda e, s: s == "seen") as a,
        process(redis_url, redis_prefix, name="b") as b,
    ):
        await wait_for(lambda: a.relay.connected and b.relay.connected)
        on_a = a.hub.subscribe("ev1")
        for session_id in ("seen", "unseen"):
            for kind in ("score", "anomaly", "decision"):
                b.hub.publish("ev1", {"type": kind, "session_id": session_id, "id": kind})
        b.hub.publish("ev1", {"type": "decision", "id": "marker"})
        got: list[tuple[Any, Any]] = []
        async with asyncio.timeout(5):
            while not got or got[-1][1] != "marker":
                message = await on_a.get()
                got.append((message.get("session_id"), message["id"]))
        assert got == [
            ("seen", "decision"),
            ("unseen", "score"),
            ("unseen", "anomaly"),
            ("unseen", "decision"),
            (None, "marker"),
        ]


async def test_a_verdict_is_settled_by_the_process_holding_the_approval(
    redis_url: str, redis_prefix: str
) -> None:
    async with (
        process(redis_url, redis_prefix, name="a") as a,
        process(redis_url, redis_prefix, name="b", approvals=Approvals("ap1")) as b,
    ):
        await wait_for(lambda: a.relay.connected and b.relay.connected)
        assert await a.relay.settle("ev1", "ap1", "approve") is True
        assert b.approvals.held == set()
        assert await a.relay.settle("ev1", "ap1", "approve") is False
        assert await b.relay.settle("ev1", "ap1", "reject") is False
        assert await a.relay.settle("ev1", "unknown", "approve") is False
        b.approvals.held.add("ap2")
        assert await a.relay.settle("ev1", "ap2", "maybe") is False
        assert await b.relay.settle("ev1", "ap2", "reject") is True


async def test_open_requests_come_from_the_shared_store_and_this_process(
    redis_url: str, redis_prefix: str
) -> None:
    store = InMemoryStore()
    async with process(redis_url, redis_prefix, name="a", store=store) as a:
        clock = a.relay.clock
        now = clock.time()
        for session_id, approval_id, due in (("s1", "open", now + 60), ("s2", "gone", now - 1)):
            request = {"type": "approval_request", "id": approval_id, "deadline": due}
            await save_pending(
                store, Pending("ev1", session_id, "approval", approval_id, due, message=request)
            )
        await save_pending(store, Pending("ev2", "s1", "approval", "elsewhere", now + 60))
        local = {"type": "approval_request", "id": "local", "deadline": now + 30}
        a.approvals.requests.append(local)
        requests = await a.relay.open_requests("ev1")
        assert [r["id"] for r in requests] == ["local", "open"]


async def test_a_redis_outage_is_counted_and_the_local_feed_keeps_working(
    redis_prefix: str,
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    before = telemetry.ORGANIZER_FEED_ERRORS.labels("subscribe")._value.get()
    async with process(dead, redis_prefix, approvals=Approvals("ap1")) as a:
        queue = a.hub.subscribe("ev1")
        a.hub.publish("ev1", {"type": "decision", "id": "d1"})
        assert queue.get_nowait()["id"] == "d1"
        await wait_for(lambda: a.relay.reconnects >= 2)
        assert telemetry.ORGANIZER_FEED_ERRORS.labels("subscribe")._value.get() > before
        assert await a.relay.settle("ev1", "ap1", "approve") is True
        assert await a.relay.settle("ev1", "ap9", "approve") is False


async def test_the_subscriber_resumes_after_losing_its_connection(
    redis_url: str, redis_prefix: str
) -> None:
    admin = redis.Redis.from_url(redis_url)
    async with (
        process(redis_url, redis_prefix, name=f"{redis_prefix}-a".replace(":", "-")) as a,
        process(redis_url, redis_prefix, name="b") as b,
    ):
        await wait_for(lambda: a.relay.connected and b.relay.connected)
        name = f"{redis_prefix}-a".replace(":", "-")
        ours = [c for c in await admin.client_list(_type="pubsub") if c.get("name") == name]
        assert ours
        for client in ours:
            await admin.client_kill_filter(_id=client["id"])
        await wait_for(lambda: a.relay.reconnects >= 1 and a.relay.connected)
        queue = a.hub.subscribe("ev1")
        b.hub.publish("ev1", {"type": "decision", "id": "after"})
        assert await received(queue, "after") == ["after"]
    await admin.aclose()


async def test_a_message_published_twice_is_delivered_once(
    redis_url: str, redis_prefix: str
) -> None:
    admin = redis.Redis.from_url(redis_url)
    async with process(redis_url, redis_prefix, name="a") as a:
        await wait_for(lambda: a.relay.connected)
        queue = a.hub.subscribe("ev1")
        channel = f"{redis_prefix}:events:ev1:organizer"
        for seq, message_id in ((1, "once"), (1, "once"), (2, "marker")):
            envelope = {"origin": "x", "seq": seq, "event_id": "ev1"}
            body = {**envelope, "message": {"type": "decision", "id": message_id}}
            await admin.publish(channel, json.dumps(body))
        assert await received(queue, "marker") == ["once", "marker"]
    await admin.aclose()


async def test_two_conductors_share_the_feed_and_the_verdicts(
    sqlite_settings: Settings, redis_url: str, redis_prefix: str
) -> None:
    event_id = f"ev-relay-{uuid.uuid4().hex[:8]}"
    settings = sqlite_settings.model_copy(
        update={"redis_url": redis_url, "redis_prefix": redis_prefix}
    )
    clock = ManualClock()
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock, seed=3) as a,
        hand_ticked(settings, persistence, clock, seed=4) as b,
        open_organizer_relay(a) as relay_a,
        open_organizer_relay(b) as relay_b,
    ):
        assert relay_a is not None and relay_b is not None
        await wait_for(lambda: relay_a.connected and relay_b.connected)
        await configure(a, event_id, mode="MANUAL")
        await set_confidence(a.store, event_id, {"*": 0.9})
        seen_on_a, on_a = feed_of(a, event_id)
        _, on_b = feed_of(b, event_id)
        # Only B receives the session's signals: B scores it and runs its cycle.
        session = Session(b, clock, event_id, "s1", seed=4)
        await run(b, clock, [session], HIGH, 150)
        await run(b, clock, [session], LOW, 180, until=lambda: on_b("approval_request"))
        request = on_b("approval_request")[0]
        await wait_for(lambda: on_a("approval_request") == [request])
        assert on_a("score") and on_a("anomaly") and on_a("decision") == on_b("decision")
        assert await relay_a.open_requests(event_id) == [request]

        assert await relay_a.settle(event_id, request["id"], "approve") is True
        await b.drain()
        await wait_for(lambda: bool(on_a("intervention")))
        assert await relay_a.settle(event_id, request["id"], "approve") is False
        assert await relay_b.settle(event_id, request["id"], "reject") is False
        b.hub.publish(event_id, {"type": "decision", "id": "marker"})
        await wait_for(lambda: on_a()[-1].get("id") == "marker")
        after = seen_on_a[seen_on_a.index(on_a("intervention")[0]) :]
        assert [m["type"] for m in after] == ["intervention", "decision"]
        assert on_a("intervention") == on_b("intervention")
        assert await relay_a.open_requests(event_id) == []
