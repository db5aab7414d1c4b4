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
- A mass exit notifies the event's organizers at once (organizer feed only), whether
  or not a cycle of the session is pending; once per anomaly (ledger-deduplicated).
- `resolve(event_id, approval_id, "approve"|"reject")` answers a pending approval;
  False when the id is unknown or already settled. The verdict is saved with the
  pending record before the run resumes, so a crash right after cannot lose it.
- Several workers (with Redis) each see every session; a cycle is started or resumed
  only by the worker holding the session's lease (`ownership.CycleOwnership`), and
  learning is once per intervention. Per-session and per-event state of sessions
  the collector evicts as idle is dropped.
- `health()` raises when a background loop (tick, Redis bridge) has died.
- A session's cycle state is checkpointed on `event:{event_id}:{session_id}` with
  durability `sync`; pending pauses are also kept in the store, so a restarted
  process resumes them. A run that fails (or was cut by a crash) resumes from its
  last checkpoint after a backoff, at most `cycles.MAX_ATTEMPTS` times; meanwhile the
  session's new anomalies are reported but start no cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.engagement import telemetry
from agentgraph.engagement.conductor.content import ContentWriter
from agentgraph.engagement.conductor.deps import ConductorDeps
from agentgraph.engagement.conductor.event_settings import (
    EventSettings,
    EventSettingsUpdate,
    load_event_settings,
    save_event_settings,
)
from agentgraph.engagement.conductor.graph import build_engagement_graph
from agentgraph.engagement.conductor.notifications import (
    facts_of,
    mass_exit_notice_id,
    notify_organizer,
)
from agentgraph.engagement.cycles import CycleRunner
from agentgraph.engagement.delivery.organizer_hub import OrganizerHub
from agentgraph.engagement.delivery.publisher import FeedPublisher
from agentgraph.engagement.detection.anomaly import DetectorConfig
from agentgraph.engagement.detection.collector import SessionKey, SessionTick, SignalCollector
from agentgraph.engagement.ownership import CycleOwnership
from agentgraph.engagement.pending import Pending, load_pending
from agentgraph.engagement.signals.parsing import parse_frame, parse_redis_payload
from agentgraph.engagement.signals.redis_bridge import RedisBridge
from agentgraph.models.budget import RedisSpend, SpendBudget, SpendLedger, StoreSpend
from agentgraph.observability.tracing import Tracing
from agentgraph.prompts import prompt_library

logger = logging.getLogger(__name__)

_PRIORITY = {"mass_exit": 0, "sudden_drop": 1, "sustained_low": 2, "gradual_decline": 3, "spike": 4}


def _window_ticks(settings: Settings) -> int:
    """Ticks in one window: the warm-up must outlast the windows filling up."""
    return math.ceil(settings.engagement_window_seconds / settings.engagement_tick_seconds)


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
        self.clock = clock or SYSTEM_CLOCK
        self.auto_tick = auto_tick
        self.hub = OrganizerHub()
        self.redis = RedisBridge(settings.redis_url, self._on_redis) if settings.redis_url else None
        spend: SpendLedger = StoreSpend(store)
        if self.redis is not None:
            spend = RedisSpend(self.redis.client)
        self.budget = SpendBudget(
            hourly_usd=settings.engagement_llm_hourly_budget_usd,
            daily_usd=settings.engagement_llm_daily_budget_usd,
            clock=self.clock,
            ledger=spend,
        )
        # A lease outlives several missed renewals (one per tick) before it passes on.
        self.ownership = CycleOwnership(
            None if self.redis is None else self.redis.client,
            lease_seconds=max(30.0, 6 * settings.engagement_tick_seconds),
        )
        self.publisher = FeedPublisher(self.hub, self.redis)
        prompts = prompt_library(settings.prompts_dir)
        self.notices = ContentWriter(None, self.budget, prompts=prompts)
        # Every run of this process gets these (the graph's nodes read them from the
        # run's context): the organizer hub and Redis, the shared budget, Redis locks.
        self.deps = ConductorDeps.build(
            settings,
            publisher=self.publisher,
            model=model,
            clock=self.clock,
            rng=rng,
            budget=self.budget,
            event_lock=self.ownership.event_lock,
        )
        self.graph = build_engagement_graph().compile(
            checkpointer=checkpointer, store=store, name="engagement"
        )
        self.collector = SignalCollector(
            clock=self.clock,
            window_seconds=settings.engagement_window_seconds,
            idle_seconds=settings.engagement_session_idle_seconds,
            detector_config=DetectorConfig(
                warmup_ticks=max(settings.engagement_warmup_ticks, _window_ticks(settings) + 4),
                cooldown_seconds=settings.engagement_anomaly_cooldown_seconds,
            ),
            max_present=settings.engagement_max_present_per_session,
            presence_idle_seconds=settings.engagement_presence_idle_seconds,
        )
        self.registered: set[SessionKey] = set()
        self._modes: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self.cycles = CycleRunner(
            graph=self.graph,
            deps=self.deps,
            store=store,
            hub=self.hub,
            collector=self.collector,
            ownership=self.ownership,
            retry_seconds=settings.engagement_tick_seconds,
            track=self._track,
            tracing=Tracing.from_settings(settings),
        )
        # The open cycles by session (shared with the runner; read by tests and gauges).
        self.pending: dict[SessionKey, Pending] = self.cycles.pending
        self.resolve = self.cycles.resolve
        self.pending_requests = self.cycles.pending_requests

    async def start(self) -> None:
        """Restore pending cycles from the store, start the tick and Redis loops."""
        for pending in await load_pending(self.store):
            key = (pending.event_id, pending.session_id)
            self.pending[key] = pending
            self.registered.add(key)
            if pending.kind == "running":
                await self.cycles.recover(pending)
        if self.auto_tick:
            self._loops.append(asyncio.create_task(self._tick_loop(), name="engagement-tick"))
        if self.redis is not None:
            self._loops.append(asyncio.create_task(self.redis.run(), name="engagement-redis"))
        for limit, period in ((self.budget.hourly_limit, "hour"), (self.budget.daily_limit, "day")):
            telemetry.LLM_LIMIT.labels(period).set(limit)

    async def stop(self) -> None:
        """Stop the loops, let runs in flight finish briefly, release leases."""
        if self.redis is not None:
            self.redis.stop()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.drain(within=5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for key in list(self.ownership.held):
            await self.ownership.release(key)
        if self.redis is not None:
            await self.redis.aclose()
        await self.cycles.tracing.aflush()  # buffered runs go out before the process ends

    def health(self) -> str:
        """A one-line status; raises RuntimeError when a background loop has died."""
        for task in self._loops:
            if task.done():
                raise RuntimeError(f"{task.get_name()} loop stopped")
        sessions = len(self.collector.sessions())
        if self.redis is None:
            return f"{sessions} active sessions, in-process signals"
        feed = "connected" if self.redis.connected else "reconnecting"
        return f"{sessions} active sessions, Redis signal feed {feed}"

    async def drain(self, within: float = 10.0) -> None:
        """Wait up to `within` seconds for the graph runs in flight (tests use this)."""
        deadline = time.monotonic() + within
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - time.monotonic()))

    def ingest_frame(
        self, event_id: str, session_id: str, raw: str | bytes, source: str = "websocket"
    ) -> list[str]:
        """Parse and record one signal frame; the problems found (never raises)."""
        signals, problems = parse_frame(raw)
        if problems:
            telemetry.MALFORMED.labels(source).inc()
        self.collector.ingest(event_id, session_id, signals, source)
        return problems

    def _on_redis(self, event_id: str, payload: Any) -> None:
        """One Redis message; whatever it holds, the bridge carries on."""
        try:
            batches, malformed = parse_redis_payload(event_id, payload)
            for session_id, signals in batches:
                self.collector.ingest(event_id, session_id, signals, "redis")
        except Exception:
            logger.exception("Unreadable Redis signal payload for event %r", event_id[:64])
            malformed = 1
        if malformed:
            telemetry.MALFORMED.labels("redis").inc(malformed)

    async def _tick_loop(self) -> None:
        interval = self.settings.engagement_tick_seconds
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except Exception:
                logger.exception("Engagement tick failed")
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def tick(self) -> list[SessionTick]:
        """Score every active session, report, start cycles, resume what is due."""
        with telemetry.TICK_SECONDS.time():
            results = self.collector.tick()
        self._forget()
        await self.ownership.renew()
        for result in results:
            with telemetry.tick_span(result):
                self._report(result)
        self.cycles.resume_due()
        self._update_gauges(results)
        return results

    def _forget(self) -> None:
        """Drop what this process keeps about idle sessions (no signals, no open
        cycle) and idle events (no such session, no organizer connected)."""
        live = set(self.collector.sessions()) | set(self.pending)
        for key in (self.registered | self.ownership.held) - live:
            self.registered.discard(key)
            if key in self.ownership.held:
                self.ownership.held.discard(key)
                self._track(asyncio.create_task(self.ownership.release(key)))
        active = {e for e, _ in self.collector.sessions()} | {e for e, _ in self.pending}
        active |= self.hub.events()
        for event_id in list(self._modes):
            if event_id not in active:
                del self._modes[event_id]
        self.ownership.prune(active)
        self.cycles.prune_locks(active)

    def _report(self, result: SessionTick) -> None:
        key = (result.event_id, result.session_id)
        if self.hub.has_subscribers(result.event_id):
            self.hub.publish(
                result.event_id,
                {
                    "type": "score",
                    "session_id": result.session_id,
                    "score": result.score,
                    "at": self.clock.time(),
                    "aggregates": result.snapshot.as_dict(),
                },
            )
        if not result.anomalies:
            return
        for anomaly in result.anomalies:
            self.hub.publish(
                result.event_id,
                {"type": "anomaly", "session_id": result.session_id, **anomaly.as_dict()},
            )
        self._track(asyncio.create_task(self._act_on(key, result)))

    async def _act_on(self, key: SessionKey, result: SessionTick) -> None:
        """Notify mass exits and start a cycle, if this worker owns the session."""
        if not await self.ownership.claim(key):
            return
        chosen = min(result.anomalies, key=lambda a: _PRIORITY[a.type])
        payload: dict[str, Any] = {
            "anomaly": chosen.as_dict(),
            "snapshot": result.snapshot.as_dict(),
            "score": result.score,
        }
        exits = [a for a in result.anomalies if a.type == "mass_exit"]
        for anomaly in exits:
            try:
                await self._notify_exit(key, anomaly.as_dict(), payload)
            except Exception:
                logger.exception("Mass-exit notification of %s/%s failed", *key)
                continue
            if anomaly is chosen:
                payload["anomaly"] = {**payload["anomaly"], "notified": True}
        if key in self.pending:
            return
        if key not in self.registered:
            self.registered.add(key)
            logger.info("Session %s/%s registered with the conductor", *key)
        self.cycles.start(key, payload)

    async def _notify_exit(
        self, key: SessionKey, anomaly: dict[str, Any], payload: dict[str, Any]
    ) -> None:
        # Outside the graph, its gate and its cap: a mass exit is news even while
        # the session's cycle waits for an approval or an outcome.
        await notify_organizer(
            store=self.store,
            publisher=self.publisher,
            writer=self.notices,
            event_id=key[0],
            facts=facts_of(key[1], anomaly, payload["snapshot"], payload["score"]),
            notice_id=mass_exit_notice_id(key[0], key[1], anomaly),
            now=self.clock.time(),
        )

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def event_settings(self, event_id: str) -> EventSettings:
        """The event's settings (defaults when never configured)."""
        return await load_event_settings(self.store, event_id, self.settings)

    async def update_event_settings(
        self, event_id: str, update: EventSettingsUpdate
    ) -> EventSettings:
        """Apply a partial settings update; returns the result."""
        saved = await save_event_settings(self.store, event_id, update, self.settings)
        if event_id in self._modes:
            self._modes[event_id] = saved.mode
        return saved

    async def _refresh_mode(self, event_id: str) -> None:
        current = await load_event_settings(self.store, event_id, self.settings)
        self._modes[event_id] = current.mode

    def _update_gauges(self, results: list[SessionTick]) -> None:
        modes: list[str] = []
        for result in results:
            mode = self._modes.get(result.event_id)
            if mode is None:
                # First sight of the event in this process: read its settings once.
                mode = self._modes[result.event_id] = self.settings.engagement_default_mode
                self._track(asyncio.create_task(self._refresh_mode(result.event_id)))
            modes.append(mode)
        telemetry.record_sessions(modes, self.budget.spent_hour, self.budget.spent_day)


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
