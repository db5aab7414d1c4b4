"""The conductor as a process-wide service: collector, ticks, graph runs, approvals.

`open_engagement(settings, store=..., checkpointer=...)` yields a started
`EngagementService`; the server opens it in its lifespan. Callers may rely on:

- `ingest_frame(event_id, session_id, raw)` parses and records one WebSocket frame
  and returns the problems (empty when all was accepted); it never raises. Redis
  signals (when `REDIS_URL` is set) go the same way.
- Every tick (`ENGAGEMENT_TICK_SECONDS`, or `await tick()` in simulated time) scores
  all active sessions, streams `score` and `anomaly` messages to the event's
  organizers, starts one graph cycle per session for its first anomaly when no cycle
  of that session is pending (registering the session with the agent), and resumes
  due approvals (timeout -> skip) and outcome measurements.
- `resolve(event_id, approval_id, "approve"|"reject")` answers a pending approval;
  False when the id is unknown or already settled.
- A session's cycle state is checkpointed on `event:{event_id}:{session_id}` with
  durability `sync`; pending pauses are also kept in the store, so a restarted
  process resumes them. A run that fails (or was cut by a crash) resumes from its
  last checkpoint after a backoff, at most `MAX_ATTEMPTS` times; meanwhile the
  session's new anomalies are reported but start no cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time as wall
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore
from langgraph.types import Command

from agentgraph.agents.engagement import build_engagement_graph
from agentgraph.config import Settings
from agentgraph.engagement import metrics as m
from agentgraph.engagement.anomaly import Anomaly, DetectorConfig
from agentgraph.engagement.budgets import LLMBudget
from agentgraph.engagement.clock import Clock, SystemClock
from agentgraph.engagement.collector import SessionKey, SessionTick, SignalCollector
from agentgraph.engagement.context import EngagementContext, thread_id
from agentgraph.engagement.event_settings import (
    EventSettings,
    EventSettingsUpdate,
    load_event_settings,
    save_event_settings,
    valid_id,
)
from agentgraph.engagement.hub import OrganizerHub
from agentgraph.engagement.pending import Pending, delete_pending, load_pending, save_pending
from agentgraph.engagement.redis_bridge import RedisBridge
from agentgraph.engagement.signals import parse_frame, parse_items

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_PRIORITY = {"mass_exit": 0, "sudden_drop": 1, "sustained_low": 2, "gradual_decline": 3, "spike": 4}


def _window_ticks(settings: Settings) -> int:
    """Ticks in one window: the warm-up must outlast the windows filling up."""
    return math.ceil(settings.engagement_window_seconds / settings.engagement_tick_seconds)


class _Publisher:
    def __init__(self, service: EngagementService) -> None:
        self.service = service

    async def organizer(self, event_id: str, message: dict[str, Any]) -> None:
        self.service.hub.publish(event_id, message)

    async def intervention(self, event_id: str, message: dict[str, Any]) -> None:
        if self.service.redis is not None:
            await self.service.redis.publish_intervention(event_id, message)


class EngagementService:
    """See the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: BaseStore,
        checkpointer: BaseCheckpointSaver[Any],
        model: BaseChatModel | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        auto_tick: bool = True,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock or SystemClock()
        self.auto_tick = auto_tick
        self.hub = OrganizerHub()
        self.budget = LLMBudget(
            settings.engagement_llm_hourly_budget_usd,
            settings.engagement_llm_daily_budget_usd,
            self.clock,
        )
        self.redis = RedisBridge(settings.redis_url, self._on_redis) if settings.redis_url else None
        self.graph = build_engagement_graph(
            settings=settings,
            publisher=_Publisher(self),
            model=model,
            clock=self.clock,
            rng=rng,
            budget=self.budget,
        ).compile(checkpointer=checkpointer, store=store, name="engagement")
        self.collector = SignalCollector(
            clock=self.clock,
            window_seconds=settings.engagement_window_seconds,
            idle_seconds=settings.engagement_session_idle_seconds,
            detector_config=DetectorConfig(
                warmup_ticks=max(settings.engagement_warmup_ticks, _window_ticks(settings) + 4),
                cooldown_seconds=settings.engagement_anomaly_cooldown_seconds,
            ),
        )
        self.pending: dict[SessionKey, Pending] = {}
        self.registered: set[SessionKey] = set()
        self._modes: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for pending in await load_pending(self.store):
            key = (pending.event_id, pending.session_id)
            self.pending[key] = pending
            self.registered.add(key)
            if pending.kind == "running":
                self._spawn(key, None)
        if self.auto_tick:
            self._loops.append(asyncio.create_task(self._tick_loop()))
        if self.redis is not None:
            self._loops.append(asyncio.create_task(self.redis.run()))
        for limit, period in ((self.budget.hourly_limit, "hour"), (self.budget.daily_limit, "day")):
            m.LLM_LIMIT.labels(period).set(limit)

    async def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.drain(within=5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()

    async def drain(self, within: float = 10.0) -> None:
        """Wait up to `within` seconds for the graph runs in flight (tests use this)."""
        deadline = wall.monotonic() + within
        while self._tasks and wall.monotonic() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - wall.monotonic()))

    def ingest_frame(
        self, event_id: str, session_id: str, raw: str | bytes, source: str = "websocket"
    ) -> list[str]:
        signals, problems = parse_frame(raw)
        if problems:
            m.MALFORMED.labels(source).inc()
        self.collector.ingest(event_id, session_id, signals, source)
        return problems

    def _on_redis(self, event_id: str, payload: Any) -> None:
        items = payload if isinstance(payload, list) else [payload]
        for item in items:
            session_id = item.get("session_id") if isinstance(item, dict) else None
            if not (isinstance(session_id, str) and valid_id(session_id) and valid_id(event_id)):
                m.MALFORMED.labels("redis").inc()
                continue
            body = item.get("signals", item)
            if isinstance(body, dict):
                body = {k: v for k, v in body.items() if k != "session_id"}
            signals, problems = parse_items(body)
            if problems:
                m.MALFORMED.labels("redis").inc()
            self.collector.ingest(event_id, session_id, signals, "redis")

    async def _tick_loop(self) -> None:
        interval = self.settings.engagement_tick_seconds
        while True:
            started = wall.monotonic()
            try:
                await self.tick()
            except Exception:
                logger.exception("Engagement tick failed")
            await asyncio.sleep(max(0.0, interval - (wall.monotonic() - started)))

    async def tick(self) -> list[SessionTick]:
        started = wall.perf_counter()
        results = self.collector.tick()
        m.TICK_SECONDS.observe(wall.perf_counter() - started)
        for result in results:
            self._report(result)
        self._resume_due()
        self._update_gauges(results)
        return results

    def _report(self, result: SessionTick) -> None:
        key = (result.event_id, result.session_id)
        if self.hub.has_subscribers(result.event_id):
            self.hub.publish(
                result.event_id,
                {
                    "type": "score",
                    "session_id": result.session_id,
                    "score": result.score,
                    "at": self.clock.now(),
                    "aggregates": result.snapshot.as_dict(),
                },
            )
        if not result.anomalies:
            return
        first_time = key not in self.registered
        for anomaly in result.anomalies:
            self.hub.publish(
                result.event_id,
                {"type": "anomaly", "session_id": result.session_id, **anomaly.as_dict()},
            )
        if key in self.pending:
            return
        self.registered.add(key)
        if first_time:
            logger.info("Session %s/%s registered with the conductor", *key)
        chosen = min(result.anomalies, key=lambda a: _PRIORITY[a.type])
        self._start_cycle(key, chosen, result)

    def _start_cycle(self, key: SessionKey, anomaly: Anomaly, result: SessionTick) -> None:
        payload = {
            "anomaly": anomaly.as_dict(),
            "snapshot": result.snapshot.as_dict(),
            "score": result.score,
        }
        self.pending[key] = Pending(key[0], key[1], "running")
        self._spawn(key, payload)

    def _spawn(self, key: SessionKey, payload: Any) -> None:
        task = asyncio.create_task(self._run(key, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: SessionKey, payload: Any) -> None:
        event_id, session_id = key
        config: Any = {"configurable": {"thread_id": thread_id(event_id, session_id)}}
        context = EngagementContext(event_id=event_id, session_id=session_id)
        previous = self.pending.get(key)
        attempts = previous.attempts + 1 if previous and previous.kind == "running" else 1
        running = Pending(event_id, session_id, "running", attempts=attempts)
        self.pending[key] = running
        await self._persist(running)
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        try:
            async with lock:
                result = await self.graph.ainvoke(
                    payload, config, context=context, durability="sync"
                )
        except Exception:
            logger.exception("Engagement cycle of %s/%s failed (attempt %d)", *key, attempts)
            if attempts >= MAX_ATTEMPTS:
                await self._clear(key)
                return
            # Resume from the last checkpoint later, backing off per attempt.
            delay = self.settings.engagement_tick_seconds * 2**attempts
            retry = Pending(
                event_id, session_id, "retry", due=self.clock.now() + delay, attempts=attempts
            )
            self.pending[key] = retry
            await self._persist(retry)
            return
        interrupts = result.get("__interrupt__") or []
        if not interrupts:
            await self._clear(key)
            return
        value = interrupts[0].value
        if value.get("kind") == "approval":
            request = {
                "type": "approval_request",
                **{k: v for k, v in value.items() if k != "kind"},
            }
            pending = Pending(
                event_id, session_id, "approval", value["id"], value["deadline"], message=request
            )
            self.hub.publish(event_id, request)
        else:
            pending = Pending(event_id, session_id, "outcome", value["id"], value["due"])
        self.pending[key] = pending
        await self._persist(pending)

    async def _persist(self, pending: Pending) -> None:
        await save_pending(self.store, pending)

    async def _clear(self, key: SessionKey) -> None:
        self.pending.pop(key, None)
        await delete_pending(self.store, key)

    def _resume_due(self) -> None:
        now = self.clock.now()
        for key, pending in list(self.pending.items()):
            if pending.due is None or now < pending.due:
                continue
            if pending.kind == "approval":
                self._resume(key, {"decision": "timeout"})
            elif pending.kind == "outcome":
                score = self.collector.current_score(*key)
                self._resume(key, {"score": 0.0 if score is None else score})
            elif pending.kind == "retry":
                self.pending[key] = Pending(key[0], key[1], "running", attempts=pending.attempts)
                self._spawn(key, None)

    def _resume(self, key: SessionKey, answer: dict[str, Any]) -> None:
        self.pending[key] = Pending(key[0], key[1], "running")
        self._spawn(key, Command(resume=answer))

    async def resolve(self, event_id: str, approval_id: str, verdict: str) -> bool:
        """Answer a pending approval request; False if unknown, expired or settled."""
        if verdict not in ("approve", "reject"):
            return False
        for key, pending in list(self.pending.items()):
            if key[0] == event_id and pending.kind == "approval" and pending.id == approval_id:
                if pending.due is not None and self.clock.now() >= pending.due:
                    return False
                self._resume(key, {"decision": verdict})
                return True
        return False

    def pending_requests(self, event_id: str) -> list[dict[str, Any]]:
        """Approval requests still open for an event (sent to organizers on connect)."""
        return [
            p.message
            for key, p in self.pending.items()
            if key[0] == event_id and p.kind == "approval" and p.message
        ]

    async def event_settings(self, event_id: str) -> EventSettings:
        current = await load_event_settings(self.store, event_id, self.settings)
        self._modes[event_id] = current.mode
        return current

    async def update_event_settings(
        self, event_id: str, update: EventSettingsUpdate
    ) -> EventSettings:
        saved = await save_event_settings(self.store, event_id, update, self.settings)
        self._modes[event_id] = saved.mode
        return saved

    def _update_gauges(self, results: list[SessionTick]) -> None:
        m.ACTIVE_SESSIONS.set(len(results))
        counts = {"AUTO": 0, "SEMI_AUTO": 0, "MANUAL": 0}
        for result in results:
            mode = self._modes.get(result.event_id)
            if mode is None:
                # First sight of the event in this process: read its settings once.
                mode = self._modes[result.event_id] = self.settings.engagement_default_mode
                task = asyncio.create_task(self.event_settings(result.event_id))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            counts[mode] = counts.get(mode, 0) + 1
        for mode, count in counts.items():
            m.SESSIONS_BY_MODE.labels(mode).set(count)
        m.LLM_COST.labels("hour").set(self.budget.spent_hour)
        m.LLM_COST.labels("day").set(self.budget.spent_day)


@contextlib.asynccontextmanager
async def open_engagement(
    settings: Settings,
    *,
    store: BaseStore,
    checkpointer: BaseCheckpointSaver[Any],
    model: BaseChatModel | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    auto_tick: bool = True,
) -> AsyncIterator[EngagementService]:
    """A started service, stopped on exit."""
    service = EngagementService(
        settings,
        store=store,
        checkpointer=checkpointer,
        model=model,
        clock=clock,
        rng=rng,
        auto_tick=auto_tick,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
