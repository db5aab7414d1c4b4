"""The organizer feed and the organizers' verdicts across server processes, over Redis.

Without Redis one process runs every cycle and holds every organizer socket, and the
`OrganizerHub` is the whole feed. With several processes an organizer is connected
to one of them while a session's cycle runs in whichever holds its lease, so
`OrganizerRelay` (one per process, `run()` for the app's lifetime) joins them:

- Feed. Every message this process publishes is delivered to its own organizers at
  once (as without Redis) and queued for `{prefix}:events:{event_id}:organizer`,
  which one sender task publishes in order on one connection, so every process sees
  a publisher's messages in the order it published them. Each carries its origin
  (the process's lease owner id) and a sequence number: a process skips its own
  messages (already delivered) and any sequence number it has seen (a publish
  retried after a lost answer), so each organizer gets each message once. `score`
  and `anomaly` messages describe what a process observed: when Redis carries the
  signals every process observes every session and reports it to its own
  organizers, so another process's report of a session this process observes too is
  not delivered twice.
- Verdicts. `settle(event_id, approval_id, verdict)` first tries this process's
  cycles; otherwise it asks every process on `{prefix}:engagement:verdicts` and
  waits for the answers of all that received the question (`PUBLISH` counts them) on
  `{prefix}:engagement:verdicts:{origin}`: True when one of them settled it. Only the
  lease holder of a session can settle its approval (`CycleRunner.resolve`), so a
  second verdict is refused wherever it arrives.
- Open requests. `open_requests(event_id)` lists the event's open approval requests
  from the shared store (every pause is saved there), merged with this process's.

A Redis failure is logged and counted (`agentgraph_engagement_organizer_feed_*`) and
never raised: the local feed keeps working, unsent messages wait (at most
`OUTBOX_SIZE`, oldest dropped first) and the subscriber reconnects with backoff. A
verdict that cannot be routed is answered False.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as redis
from langgraph.store.base import BaseStore
from redis.exceptions import RedisError

from agentgraph.clock import Clock
from agentgraph.engagement import telemetry
from agentgraph.engagement.delivery.organizer_hub import OrganizerHub
from agentgraph.engagement.pending import open_approvals
from agentgraph.engagement.signals.listener import ReconnectingListener

logger = logging.getLogger(__name__)

Message = dict[str, Any]
OUTBOX_SIZE = 10_000
VERDICT_SECONDS = 5.0
# What a process saw of a session, not what its cycle did (see the module docstring).
OBSERVATIONS = frozenset({"score", "anomaly"})


class LocalApprovals(Protocol):
    """This process's side of approvals (`CycleRunner`)."""

    async def resolve(self, event_id: str, approval_id: str, verdict: str) -> bool:
        """Settle a pause held here; False if unknown here, expired or settled."""
        ...

    def pending_requests(self, event_id: str) -> list[Message]:
        """The event's approval requests open in this process."""
        ...


def organizer_channel(prefix: str, event_id: str) -> str:
    """The Redis channel an event's organizer messages are shared on."""
    return f"{prefix}:events:{event_id}:organizer"


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class OrganizerRelay(ReconnectingListener):
    """See the module docstring."""

    what = "Organizer feed subscriber"

    def __init__(
        self,
        client: redis.Redis,
        hub: OrganizerHub,
        *,
        origin: str,
        prefix: str,
        approvals: LocalApprovals,
        observes: Callable[[str, str], bool],
        store: BaseStore,
        clock: Clock,
    ) -> None:
        super().__init__()
        self.client = client
        self.hub = hub
        self.origin = origin
        self.prefix = prefix
        self.approvals = approvals
        self.observes = observes
        self.store = store
        self.clock = clock
        self.feed_pattern = organizer_channel(_glob_escape(prefix), "*")
        self.verdicts = f"{prefix}:engagement:verdicts"
        self.replies = f"{self.verdicts}:{origin}"
        self._outbox: deque[tuple[str, str]] = deque(maxlen=OUTBOX_SIZE)
        self._queued = asyncio.Event()
        self._seq = 0
        self._seen: dict[str, int] = {}
        self._waiting: dict[str, asyncio.Queue[bool]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        hub.forward = self._enqueue

    def _enqueue(self, event_id: str, message: Message) -> None:
        """Queue a message for the other processes (never blocks, never raises)."""
        self._seq += 1
        envelope = {"origin": self.origin, "seq": self._seq, "event_id": event_id}
        try:
            data = json.dumps({**envelope, "message": message})
        except (TypeError, ValueError):
            logger.exception("Organizer message of %s could not be encoded", event_id)
            telemetry.ORGANIZER_FEED_DROPPED.inc()
            return
        if len(self._outbox) == OUTBOX_SIZE:
            telemetry.ORGANIZER_FEED_DROPPED.inc()
        self._outbox.append((organizer_channel(self.prefix, event_id), data))
        self._queued.set()

    async def run(self) -> None:
        """Send and receive until `stop()`; Redis failures are retried, never raised."""
        try:
            await asyncio.gather(self._sending(), self._receiving())
        finally:
            for task in list(self._tasks):
                task.cancel()

    def stop(self) -> None:
        """Ask `run()` to return and stop forwarding this process's messages."""
        self._stopping.set()
        self._queued.set()
        if self.hub.forward == self._enqueue:
            self.hub.forward = None

    async def _sending(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            if not self._outbox:
                self._queued.clear()
                await self._queued.wait()
                continue
            item = self._outbox[0]
            try:
                await self.client.publish(*item)
            except (RedisError, OSError) as exc:
                logger.warning("Could not share an organizer message (%s)", type(exc).__name__)
                telemetry.ORGANIZER_FEED_ERRORS.labels("publish").inc()
                await self._pause(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.2
            # The deque may have dropped it (full) while it was being sent.
            if self._outbox and self._outbox[0] is item:
                self._outbox.popleft()

    async def _receiving(self) -> None:
        await self._listen_until_stopped()

    def _lost(self) -> None:
        telemetry.ORGANIZER_FEED_ERRORS.labels("subscribe").inc()

    async def _listen(self) -> None:
        pubsub = self.client.pubsub()
        try:
            await pubsub.psubscribe(self.feed_pattern)
            await pubsub.subscribe(self.verdicts, self.replies)
            self.connected = True
            while not self._stopping.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is None or message.get("type") not in ("message", "pmessage"):
                    continue
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                try:
                    body = json.loads(message["data"])
                    self._dispatch(channel, body)
                except Exception:
                    logger.exception("Unreadable message on %s", channel)
        finally:
            self.connected = False
            with contextlib.suppress(RedisError, OSError):
                # redis-py types PubSub.aclose without annotations.
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _dispatch(self, channel: str, body: dict[str, Any]) -> None:
        if channel == self.replies:
            waiting = self._waiting.get(str(body["request"]))
            if waiting is not None:
                waiting.put_nowait(body["accepted"] is True)
        elif channel == self.verdicts:
            task = asyncio.create_task(self._answer(body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._receive(body)

    def _receive(self, body: dict[str, Any]) -> None:
        origin, seq, event_id = str(body["origin"]), int(body["seq"]), str(body["event_id"])
        message = body["message"]
        if origin == self.origin or seq <= self._seen.get(origin, 0):
            return
        self._seen[origin] = seq
        if message.get("type") in OBSERVATIONS and self.observes(
            event_id, str(message.get("session_id"))
        ):
            return
        self.hub.deliver(event_id, message)

    async def _answer(self, body: dict[str, Any]) -> None:
        """Try another process's verdict on this process's cycles; answer it either way."""
        try:
            accepted = await self.approvals.resolve(
                str(body["event_id"]), str(body["id"]), str(body["verdict"])
            )
        except Exception:
            logger.exception("Verdict for %s could not be applied", body.get("id"))
            accepted = False
        reply = json.dumps({"request": body["request"], "accepted": accepted})
        try:
            await self.client.publish(f"{self.verdicts}:{body['origin']}", reply)
        except (RedisError, OSError) as exc:
            logger.warning("Could not answer a verdict (%s)", type(exc).__name__)
            telemetry.ORGANIZER_FEED_ERRORS.labels("reply").inc()

    async def settle(self, event_id: str, approval_id: str, verdict: str) -> bool:
        """Settle an approval wherever its cycle runs; True only if it was settled now."""
        if await self.approvals.resolve(event_id, approval_id, verdict):
            return True
        if verdict not in ("approve", "reject"):
            return False
        if not self.connected:
            # The answers would come back on the subscription: without it, none can.
            logger.warning("Verdict %s not routed: the organizer feed is reconnecting", approval_id)
            telemetry.ORGANIZER_FEED_ERRORS.labels("verdict").inc()
            return False
        request = uuid.uuid4().hex
        answers: asyncio.Queue[bool] = asyncio.Queue()
        self._waiting[request] = answers
        question = {"request": request, "origin": self.origin, "event_id": event_id}
        try:
            payload = json.dumps({**question, "id": approval_id, "verdict": verdict})
            receivers = int(await self.client.publish(self.verdicts, payload))
            async with asyncio.timeout(VERDICT_SECONDS):
                for _ in range(receivers):
                    if await answers.get():
                        return True
            return False
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("Verdict %s could not be routed (%s)", approval_id, type(exc).__name__)
            telemetry.ORGANIZER_FEED_ERRORS.labels("verdict").inc()
            return False
        finally:
            del self._waiting[request]

    async def open_requests(self, event_id: str) -> list[Message]:
        """The event's open approval requests, whichever process holds them."""
        requests = list(self.approvals.pending_requests(event_id))
        try:
            stored = await open_approvals(self.store, event_id, self.clock.time())
        except Exception:
            logger.exception("Open approvals of %s could not be read", event_id)
            return requests
        known = {r.get("id") for r in requests}
        requests += [p.message for p in stored if p.message and p.id not in known]
        return requests
