"""The conductor on real Redis: signals over pub/sub, interventions published back,
and the collector surviving a lost or missing Redis."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.conductor.bandit import namespace
from agentgraph.engagement.conductor.event_settings import EventSettingsUpdate
from agentgraph.engagement.detection.simulation import HIGH, LOW, AudienceSimulator
from agentgraph.engagement.ownership import CycleOwnership, lease_key
from agentgraph.engagement.service import EngagementService
from agentgraph.models.budget import RedisSpend, SpendBudget
from agentgraph.persistence import open_persistence
from tests.conftest import REDIS_URL
from tests.integration.test_engagement_service import feed_of, set_confidence
from tests.support.engagement import hand_ticked
from tests.support.live_server import free_port

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_client() -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        pytest.fail(f"Redis is required for this test but {REDIS_URL} is unreachable: {exc}")
    yield client
    await client.aclose()


async def wait_for(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def signals_seen(service: EngagementService, event_id: str, session_id: str) -> int:
    session = service.collector._sessions.get((event_id, session_id))
    return 0 if session is None else session.windows.signals_total


async def test_signals_over_redis_lead_to_an_intervention_published_on_redis(
    sqlite_settings: Settings, redis_client: redis.Redis
) -> None:
    event_id = f"ev-redis-{uuid.uuid4().hex[:8]}"
    settings = sqlite_settings.model_copy(
        update={"redis_url": REDIS_URL, "engagement_min_confidence": 0.0}
    )
    clock = ManualClock()
    out = redis_client.pubsub()
    await out.subscribe(f"events:{event_id}:interventions")
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock, rng=random.Random(1)) as service,
    ):
        await service.update_event_settings(event_id, EventSettingsUpdate(mode="AUTO"))
        # Every anomaly this traffic raises has a poll candidate, drawn at 0.95: it wins.
        await set_confidence(service.store, event_id, {"poll": 0.95, "*": 0.3})
        _, organizer = feed_of(service, event_id)
        await wait_for(lambda: service.redis is not None and service.redis.connected)
        sim = AudienceSimulator(50, seed=4)
        channel = f"events:{event_id}:signals"
        joins = [{"type": s.type, "user": s.user} for _, s in sim.joins(0)]
        await redis_client.publish(channel, json.dumps({"session_id": "s1", "signals": joins}))
        await wait_for(lambda: signals_seen(service, event_id, "s1") == 50)
        for rates, ticks in ((HIGH, 30), (LOW, 36)):
            for _ in range(ticks):
                batch = [
                    {"session_id": "s1", "type": s.type, "user": s.user, "ts": at}
                    for at, s in sim.step(clock.time(), 5.0, rates)
                ]
                before = signals_seen(service, event_id, "s1")
                await redis_client.publish(channel, json.dumps(batch))
                expected = before + len(batch)
                await wait_for(lambda want=expected: signals_seen(service, event_id, "s1") == want)
                clock.advance(5.0)
                await service.tick()
                await service.drain()
        await redis_client.publish(channel, "not json")
        await redis_client.publish(channel, json.dumps({"type": "chat", "user": "no-session"}))
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = await out.get_message(ignore_subscribe_messages=True, timeout=0.2)
        assert message is not None, "no intervention was published to Redis"
        published = json.loads(message["data"])
        assert published["session_id"] == "s1" and published["content"]
        assert published["intervention_type"] == "poll"
        # A sudden drop, then a sustained low while the poll cools down: its best other.
        first, second = f"{event_id}:s1:1", f"{event_id}:s1:2"
        assert [(m["id"], m["intervention_type"]) for m in organizer("intervention")] == [
            (first, "poll"),
            (second, "qna_prompt"),
        ]
        assert [
            (d["anomaly_type"], d["action"], d["intervention_type"]) for d in organizer("decision")
        ] == [
            ("sudden_drop", "execute", "poll"),
            ("sustained_low", "execute", "qna_prompt"),
        ]
        assert published["id"] == first
        # Other test runs may share this Redis: look at this event's sessions only.
        ours = [key for key in service.collector.sessions() if key[0] == event_id]
        assert ours == [(event_id, "s1")]
    await out.aclose()


async def test_collector_keeps_working_without_redis(sqlite_settings: Settings) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = sqlite_settings.model_copy(update={"redis_url": dead})
    clock = ManualClock()
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock) as service,
    ):
        assert (
            service.ingest_frame("ev-dead", "s1", json.dumps({"type": "chat", "user": "u"})) == []
        )
        clock.advance(5)
        results = await service.tick()
        assert [(r.event_id, r.score > 0) for r in results] == [("ev-dead", True)]
        await wait_for(lambda: service.redis is not None and service.redis.reconnects >= 2)
        assert service.redis is not None and not service.redis.connected
        assert await service.redis.publish_intervention("ev-dead", {"id": "x"}) is False


async def test_subscriber_reconnects_after_losing_its_connection(
    sqlite_settings: Settings, redis_client: redis.Redis
) -> None:
    event_id = f"ev-rc-{uuid.uuid4().hex[:8]}"
    settings = sqlite_settings.model_copy(update={"redis_url": REDIS_URL})
    clock = ManualClock()
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock) as service,
    ):
        bridge = service.redis
        assert bridge is not None
        await wait_for(lambda: bridge.connected)
        channel = f"events:{event_id}:signals"
        await redis_client.publish(
            channel, json.dumps({"session_id": "s1", "type": "chat", "user": "a"})
        )
        await wait_for(lambda: signals_seen(service, event_id, "s1") == 1)
        ours = [
            c
            for c in await redis_client.client_list(_type="pubsub")
            if c.get("name") == bridge.client_name
        ]
        assert ours
        for client in ours:
            await redis_client.client_kill_filter(_id=client["id"])
        await wait_for(lambda: bridge.reconnects >= 1 and bridge.connected)
        await redis_client.publish(
            channel, json.dumps({"session_id": "s1", "type": "chat", "user": "b"})
        )
        await wait_for(lambda: signals_seen(service, event_id, "s1") == 2)


async def test_poison_payloads_never_stop_the_redis_bridge(
    sqlite_settings: Settings, redis_client: redis.Redis
) -> None:
    event_id = f"ev-poison-{uuid.uuid4().hex[:8]}"
    settings = sqlite_settings.model_copy(update={"redis_url": REDIS_URL})
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, ManualClock()) as service,
    ):
        bridge = service.redis
        assert bridge is not None
        await wait_for(lambda: bridge.connected)
        channel = f"events:{event_id}:signals"
        for poison in (
            json.dumps({"session_id": "s1", "type": {}}),
            json.dumps([{"session_id": "s1", "type": ["chat"], "user": "u"}]),
            "[" * 100_000,
            json.dumps({"session_id": "s1", "signals": {"type": [], "user": "u"}}),
        ):
            await redis_client.publish(channel, poison)
        await redis_client.publish(
            channel, json.dumps({"session_id": "s1", "type": "chat", "user": "a"})
        )
        await wait_for(lambda: signals_seen(service, event_id, "s1") == 1)
        assert bridge.connected and all(not task.done() for task in service._loops)
        assert "Redis signal feed connected" in service.health()


async def test_two_workers_give_each_session_one_conductor(
    sqlite_settings: Settings, redis_client: redis.Redis
) -> None:
    event_id = f"ev-two-{uuid.uuid4().hex[:8]}"
    settings = sqlite_settings.model_copy(update={"redis_url": REDIS_URL})
    clock = ManualClock()
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock, rng=random.Random(1)) as first,
        hand_ticked(settings, persistence, clock, rng=random.Random(2)) as second,
    ):
        await first.update_event_settings(event_id, EventSettingsUpdate(mode="AUTO"))
        await set_confidence(first.store, event_id, {"*": 0.9})
        feeds = [feed_of(first, event_id)[1], feed_of(second, event_id)[1]]
        sim = AudienceSimulator(50, seed=5)
        joins = [s for _, s in sim.joins(0)]
        for worker in (first, second):
            # With Redis every worker receives every signal.
            worker.collector.ingest(event_id, "s1", joins, "redis")
        for rates, seconds in ((HIGH, 150), (LOW, 120), (HIGH, 90)):
            for _ in range(int(seconds / 5)):
                batch = [s for _, s in sim.step(clock.time(), 5.0, rates)]
                for worker in (first, second):
                    worker.collector.ingest(event_id, "s1", batch, "redis")
                clock.advance(5.0)
                await asyncio.gather(first.tick(), second.tick())
                await first.drain()
                await second.drain()
        assert all(messages("anomaly") for messages in feeds)
        decisions = [d for messages in feeds for d in messages("decision")]
        executed = [i for messages in feeds for i in messages("intervention")]
        outcomes = [o for messages in feeds for o in messages("outcome")]
        assert executed and len({i["id"] for i in executed}) == len(executed)
        assert len({d["id"] for d in decisions}) == len(decisions)
        assert len(outcomes) == len(executed)
        for outcome in outcomes:
            item = await first.store.aget(namespace(event_id), outcome["context"])
            assert item is not None
            alpha, beta = item.value["arms"][outcome["intervention_type"]]
            assert alpha + beta == pytest.approx(20_000 + 1)


async def test_llm_spend_in_redis_is_shared_by_workers(redis_client: redis.Redis) -> None:
    prefix = f"test:llm_spend:{uuid.uuid4().hex[:8]}"
    clock = ManualClock()
    one = SpendBudget(
        hourly_usd=1.0, daily_usd=100, clock=clock, ledger=RedisSpend(redis_client, prefix)
    )
    other = SpendBudget(
        hourly_usd=1.0, daily_usd=100, clock=clock, ledger=RedisSpend(redis_client, prefix)
    )
    await one.arecord(0.7)
    assert await other.aallows()
    await other.arecord(0.4)
    assert not await one.aallows() and one.spent_hour == pytest.approx(1.1)
    ttl = await redis_client.ttl(f"{prefix}:hour:{one._buckets()[0]}")
    assert 0 < ttl <= 2 * 3600


async def test_a_session_lease_has_one_holder_and_passes_on_when_released(
    redis_client: redis.Redis,
) -> None:
    key = (f"ev-lease-{uuid.uuid4().hex[:8]}", "s1")
    first, second = CycleOwnership(redis_client), CycleOwnership(redis_client)
    assert await first.claim(key) and await first.claim(key)
    assert not await second.claim(key)
    await first.renew()
    assert 0 < await redis_client.pttl(lease_key(key)) <= first.lease_ms
    await first.release(key)
    assert await second.claim(key)
    await first.renew()
    assert not await first.claim(key) and key not in first.held
    await second.release(key)
