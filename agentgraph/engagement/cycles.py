"""Running conductor cycles: one graph run per session at a time, its pauses, recovery.

`CycleRunner` owns the `pending` map (one `Pending` per session with an open cycle,
mirrored in the store) and the graph runs in flight; every run it starts or resumes
gets the service's `ConductorDeps` in its `EngagementContext`, on the thread
`event:{event_id}:{session_id}`. Callers may rely on:

- `start(key, payload)` runs a new cycle (the caller holds the session's lease);
- `resume_due()` resumes due approvals (as timeouts), outcome measurements (with the
  session's level now and at execution) and retries after failures;
- `resolve(event_id, approval_id, verdict)` saves the organizer's verdict in the
  pending record, then resumes the run with it; `recover(pending)` at start-up
  resumes a run cut by a crash with the answer it had been given, if it still waits
  at that pause, from its last checkpoint otherwise;
- a run or resume happens only after `ownership.claim(key)` succeeds, so of several
  workers only the session's lease holder moves its cycle; the lease is released
  when the cycle ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph.types import Command

from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.deps import ConductorDeps
from agentgraph.engagement.delivery.organizer_hub import OrganizerHub
from agentgraph.engagement.detection.collector import SessionKey, SignalCollector
from agentgraph.engagement.ownership import CycleOwnership
from agentgraph.engagement.pending import Pending, delete_pending, save_pending
from agentgraph.observability.tracing import NO_TRACING, Tracing
from agentgraph.threads import event_thread_id

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class CycleRunner:
    """See the module docstring."""

    def __init__(
        self,
        *,
        graph: Pregel[Any, Any, Any, Any],
        deps: ConductorDeps,
        store: BaseStore,
        hub: OrganizerHub,
        collector: SignalCollector,
        ownership: CycleOwnership,
        retry_seconds: float,
        track: Callable[[asyncio.Task[Any]], None],
        tracing: Tracing = NO_TRACING,
    ) -> None:
        self.graph = graph
        self.tracing = tracing
        self.deps = deps
        self.store = store
        # Business time (dues, deadlines) is the conductor's clock.
        self.clock = deps.clock
        self.hub = hub
        self.collector = collector
        self.ownership = ownership
        self.retry_seconds = retry_seconds
        self.track = track
        self.pending: dict[SessionKey, Pending] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def start(self, key: SessionKey, payload: dict[str, Any]) -> None:
        """Run a new cycle for the session in the background (the caller holds its lease)."""
        self.pending[key] = Pending(key[0], key[1], "running")
        self.track(asyncio.create_task(self._run(key, payload)))

    async def recover(self, pending: Pending) -> None:
        """Resume a run cut by a crash (start-up), if this worker gets the session."""
        key = (pending.event_id, pending.session_id)
        if not await self.ownership.claim(key):
            self.pending.pop(key, None)
            return
        payload = await self._resume_payload(key, pending.resume)
        self.track(asyncio.create_task(self._run(key, payload)))

    async def _resume_payload(self, key: SessionKey, answer: dict[str, Any] | None) -> Any:
        if answer is None:
            return None
        config: Any = {"configurable": {"thread_id": event_thread_id(*key)}}
        state = await self.graph.aget_state(config)
        # Only while the run still waits at that pause: had it passed it, the answer
        # would be taken by the next pause instead.
        return Command(resume=answer) if state.interrupts else None

    async def _run(self, key: SessionKey, payload: Any) -> None:
        event_id, session_id = key
        config = self.tracing.config(
            "engagement",
            event_thread_id(event_id, session_id),
            {"event_id": event_id, "session_id": session_id},
            [f"event:{event_id}"],
        )
        context = EngagementContext(event_id=event_id, session_id=session_id, deps=self.deps)
        previous = self.pending.get(key)
        attempts = previous.attempts + 1 if previous and previous.kind == "running" else 1
        resume = previous.resume if previous else None
        running = Pending(event_id, session_id, "running", attempts=attempts, resume=resume)
        self.pending[key] = running
        await save_pending(self.store, running)
        lock = self.locks.setdefault(event_id, asyncio.Lock())
        try:
            async with lock:
                result = await self.graph.ainvoke(
                    payload, config, context=context, durability="sync"
                )
        except Exception:
            logger.exception("Engagement cycle of %s/%s failed (attempt %d)", *key, attempts)
            if attempts >= MAX_ATTEMPTS:
                await self.clear(key)
                return
            # Resume from the last checkpoint later, backing off per attempt.
            retry = Pending(
                event_id,
                session_id,
                "retry",
                due=self.clock.time() + self.retry_seconds * 2**attempts,
                attempts=attempts,
                resume=resume,
            )
            self.pending[key] = retry
            await save_pending(self.store, retry)
            return
        interrupts = result.get("__interrupt__") or []
        if not interrupts:
            await self.clear(key)
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
        else:
            # The reward's baseline: the session's level now, right after acting.
            level = self.collector.current_level(event_id, session_id)
            before = result.get("score") if level is None else level
            pending = Pending(
                event_id, session_id, "outcome", value["id"], value["due"], before=before
            )
        self.pending[key] = pending
        await save_pending(self.store, pending)
        if pending.message is not None:
            # Published once stored, so an organizer connecting to another process
            # right after this one is sent it (`OrganizerRelay.open_requests`).
            self.hub.publish(event_id, pending.message)

    async def clear(self, key: SessionKey) -> None:
        """Forget the session's cycle: pending record, store entry and lease."""
        self.pending.pop(key, None)
        await delete_pending(self.store, key)
        await self.ownership.release(key)

    def resume_due(self) -> None:
        """Resume whatever is due now: approvals as timeouts, outcomes, retries."""
        now = self.clock.time()
        for key, pending in list(self.pending.items()):
            if pending.due is None or now < pending.due:
                continue
            if pending.kind == "approval":
                self._resume(key, {"decision": "timeout"})
            elif pending.kind == "outcome":
                level = self.collector.current_level(*key)
                answer: dict[str, Any] = {"score": 0.0 if level is None else level}
                if pending.before is not None:
                    answer["before"] = pending.before
                self._resume(key, answer)
            elif pending.kind == "retry":
                self.pending[key] = Pending(
                    key[0], key[1], "running", attempts=pending.attempts, resume=pending.resume
                )
                self.track(asyncio.create_task(self._claim_and_run(key, pending.resume, True)))

    def _resume(self, key: SessionKey, answer: dict[str, Any]) -> None:
        self.pending[key] = Pending(key[0], key[1], "running", resume=answer)
        self.track(asyncio.create_task(self._claim_and_run(key, answer, False)))

    async def _claim_and_run(
        self, key: SessionKey, answer: dict[str, Any] | None, check: bool
    ) -> None:
        if not await self.ownership.claim(key):
            # Another worker holds the session: the cycle is its to move.
            self.pending.pop(key, None)
            return
        await save_pending(self.store, self.pending[key])
        if check:
            payload = await self._resume_payload(key, answer)
        else:
            payload = None if answer is None else Command(resume=answer)
        await self._run(key, payload)

    async def resolve(self, event_id: str, approval_id: str, verdict: str) -> bool:
        """Answer a pending approval request; False if unknown, expired or settled."""
        if verdict not in ("approve", "reject"):
            return False
        for key, pending in list(self.pending.items()):
            if key[0] == event_id and pending.kind == "approval" and pending.id == approval_id:
                if pending.due is not None and self.clock.time() >= pending.due:
                    return False
                if not await self.ownership.claim(key) or self.pending.get(key) is not pending:
                    return False
                answer = {"decision": verdict}
                # Saved before the run resumes: a crash from here on resumes with it.
                self.pending[key] = Pending(key[0], key[1], "running", resume=answer)
                await save_pending(self.store, self.pending[key])
                self.track(asyncio.create_task(self._run(key, Command(resume=answer))))
                return True
        return False

    def pending_requests(self, event_id: str) -> list[dict[str, Any]]:
        """Approval requests still open for an event (sent to organizers on connect)."""
        return [
            p.message
            for key, p in self.pending.items()
            if key[0] == event_id and p.kind == "approval" and p.message
        ]

    def prune_locks(self, active_events: set[str]) -> None:
        """Forget the run locks of events no longer active (and not held right now)."""
        for event_id in list(self.locks):
            if event_id not in active_events and not self.locks[event_id].locked():
                del self.locks[event_id]
