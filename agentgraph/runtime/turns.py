"""Turn execution: one user message in, the assistant's replies out.

`TurnRunner.send(thread_id, text, context)` is the only way the CLI and the server
talk to the assistant graph. Per thread it runs one turn at a time (messages wait
their turn in arrival order). If the thread is paused on a confirmation, the message
answers it: yes or no resume the paused tool; anything else cancels the pending
action and is then handled as a new message, so a money movement only ever follows
an explicit yes. Every few turns (and after a failed one) old checkpoints are pruned to the
retention setting.
Failures inside the graph are logged and answered with a polite apology, never a
stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Interrupt

from agentgraph.checkpoints import pending_interrupts, preloaded, prune_thread
from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.context import Context
from agentgraph.faults import NO_FAULTS, Faults
from agentgraph.handoff import handoff_destination
from agentgraph.observability.metrics import TURN_SECONDS, TURNS
from agentgraph.observability.tracing import NO_TRACING, Tracing
from agentgraph.prompts import PromptLibrary, prompt_library
from agentgraph.runtime.replay import completed_turn, started_turn_key
from agentgraph.runtime.turn_result import TurnResult, values_result

__all__ = ["APOLOGY", "TurnResult", "TurnRunner"]
from agentgraph.threads import mask_thread_id
from agentgraph.tools.confirm import ConfirmationAnswer, classify_answer

log = logging.getLogger(__name__)

Durability = Literal["sync", "async", "exit"]

# More rounds than this means a model keeps re-asking; the new message then runs anyway.
MAX_CONFIRMATION_ROUNDS = 3

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."


@dataclass
class _RunOutcome:
    """What one graph run streamed: replies, interrupts and the final state values."""

    replies: list[str] = field(default_factory=list)
    interrupts: list[Interrupt] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    values: dict[str, Any] | None = None


def _answer_for(
    pending: dict[str, Any], verdict: str, text: str, now: datetime
) -> ConfirmationAnswer:
    """How to resume a paused confirmation given the user's new message at `now`."""
    expires = pending.get("expires_at")
    expired = False
    if isinstance(expires, str):
        try:
            expired = now > datetime.fromisoformat(expires)
        except ValueError:
            expired = True
    answer: ConfirmationAnswer = {"text": text, "at": now.isoformat()}
    if expired:
        answer["answer"] = "expired"
    elif verdict in ("yes", "no"):
        answer["answer"] = verdict  # type: ignore[typeddict-item]
    else:
        answer["answer"] = "superseded"
    return answer


class TurnRunner:
    """Runs turns of a compiled assistant graph with per-thread ordering and retention."""

    def __init__(
        self,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        *,
        retention: int | None = 10,
        durability: Durability = "exit",
        prune_every: int = 5,
        clock: Clock = SYSTEM_CLOCK,
        prompts: PromptLibrary | None = None,
        faults: Faults = NO_FAULTS,
        tracing: Tracing = NO_TRACING,
    ) -> None:
        self.graph = graph
        self.faults = faults
        self.tracing = tracing
        self.clock = clock
        # The yes/no vocabulary that decides whether a message answers a confirmation.
        self.prompts = prompts or prompt_library()
        self.retention = retention
        self.durability = durability
        self.prune_every = max(1, prune_every)
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def _turn_lock(self, thread_id: str) -> AsyncIterator[None]:
        # asyncio.Lock wakes waiters in FIFO order, which is what keeps arrival order.
        lock = self._locks.setdefault(thread_id, asyncio.Lock())
        async with lock:
            yield
        if not lock.locked() and not getattr(lock, "_waiters", None):
            self._locks.pop(thread_id, None)

    async def send(
        self,
        thread_id: str,
        text: str,
        context: Context,
        *,
        inputs: Sequence[str] = (),
        user: str | None = None,
    ) -> TurnResult:
        """Deliver one user message and return the assistant's replies.

        `inputs` are the ids of the inbound messages the text stands for (a channel's
        message ids): the first is the turn's key and the id of its human message, so
        money movements are keyed by the message that asked for them, and a turn that
        already ran to its end (a crash before its replies were committed) is answered
        from the checkpoint instead of running again. Without `inputs` a fresh key is
        made for the turn. `user` is the conversation's pseudonym, which traces name the
        user by (never the phone number in `context`)."""
        started = time.perf_counter()
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        ids = [str(i) for i in inputs] or [f"turn-{uuid.uuid4().hex}"]
        key = ids[0]
        async with self._turn_lock(thread_id):
            replies: list[str] = []
            error = False
            final: _RunOutcome | None = None
            try:
                saved = await self._latest(config)
                fresh = True  # `saved` is still the thread's latest checkpoint
                recorded = await self._completed(config, key, saved)
                if recorded is not None:
                    return self._finish(recorded, context, started)
                traced = self._run_config(thread_id, context, user, saved)
                handled = False
                verdict = classify_answer(text, self.prompts)
                # A model may ask again after a superseded confirmation; every pause is
                # closed before the new message runs, so none is left dangling.
                for _ in range(MAX_CONFIRMATION_ROUNDS):
                    if not fresh:
                        saved, fresh = await self._latest(config), True
                    pending = _pending_confirmation(saved)
                    if pending is None:
                        break
                    final = _RunOutcome()
                    with preloaded(self.graph.checkpointer, thread_id, saved):
                        await self._run(
                            Command(
                                resume=_answer_for(pending, verdict, text, self.clock.now()),
                                update={"turn_key": key, "turn_inputs": ids},
                            ),
                            traced(resuming=True),
                            context,
                            final,
                        )
                    replies += final.replies
                    if verdict != "other":
                        handled = True
                        break
                    fresh = False  # that run moved the thread on
                if not handled:
                    final = _RunOutcome()
                    # The run's first read is the checkpoint just read, if nothing moved since.
                    with (
                        preloaded(self.graph.checkpointer, thread_id, saved)
                        if fresh
                        else contextlib.nullcontext()
                    ):
                        await self._run(
                            {
                                "messages": [HumanMessage(content=text, id=key)],
                                "turn_key": key,
                                "turn_inputs": ids,
                            },
                            traced(resuming=False),
                            context,
                            final,
                        )
                    replies += final.replies
            except Exception:
                log.exception("turn failed on thread %s", mask_thread_id(thread_id))
                # What tools already did in this run (a transfer, a booking) is news the
                # user must get even though the model could not phrase the answer.
                done = final.tool_results if final is not None else []
                replies += done or [APOLOGY]
                error = True
                final = None
            if not error:
                # The turn's final checkpoint is written; its replies are not committed.
                self.faults.point("after_checkpoint")
            try:
                result = await self._result(config, text, replies, error, final)
                result.inputs = ids
            except Exception:
                log.exception("reading state failed on thread %s", mask_thread_id(thread_id))
                result = TurnResult(
                    text, replies or [APOLOGY], "triage", False, error=True, inputs=ids
                )
            if self._should_prune(result):
                try:
                    await prune_thread(self.graph.checkpointer, thread_id, self.retention)  # type: ignore[arg-type]
                except Exception:
                    log.exception("checkpoint pruning failed on %s", mask_thread_id(thread_id))
        return self._finish(result, context, started)

    def _run_config(
        self, thread_id: str, context: Context, user: str | None, saved: CheckpointTuple | None
    ) -> Callable[..., RunnableConfig]:
        """The config of this message's graph runs: the thread and, when traced, what
        the trace shows. A run resuming a paused confirmation continues the thread's
        current turn (same `turn` number); a new message starts the next one."""
        values = saved.checkpoint.get("channel_values", {}) if saved is not None else {}
        turns = int(values.get("turns", 0))
        metadata = {
            "tenant_id": context.tenant_id,
            "channel": context.channel,
            "user": user or "unknown",
            "agent": str(values.get("active_agent", "triage")),
        }
        tags = [f"channel:{context.channel}", f"tenant:{context.tenant_id}"]

        def traced(*, resuming: bool) -> RunnableConfig:
            turn = turns if resuming else turns + 1
            return self.tracing.config("assistant", thread_id, {**metadata, "turn": turn}, tags)

        return traced

    def _finish(self, result: TurnResult, context: Context, started: float) -> TurnResult:
        elapsed = time.perf_counter() - started
        result.latency_ms = elapsed * 1000
        TURN_SECONDS.labels(context.channel).observe(elapsed)
        TURNS.labels(context.channel, "error" if result.error else "ok").inc()
        return result

    async def _completed(
        self, config: RunnableConfig, key: str, saved: CheckpointTuple | None
    ) -> TurnResult | None:
        """The recorded result of turn `key` when the thread already ran it to its end
        (`saved` is the thread's latest checkpoint, already read)."""
        if saved is None or started_turn_key(saved.checkpoint.get("channel_values")) != key:
            return None
        done = completed_turn(await self.graph.aget_state(config), key)
        if done is None:
            return None
        log.warning(
            "turn %s on %s had run to its end; answering from the checkpoint",
            key,
            mask_thread_id(str(config["configurable"]["thread_id"])),
        )
        result = values_result("", done.replies, done.values, done.interrupts, error=False)
        result.inputs, result.replayed = done.inputs, True
        return result

    async def _latest(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The thread's latest checkpoint (None for a new thread)."""
        checkpointer = self.graph.checkpointer
        if not isinstance(checkpointer, BaseCheckpointSaver):
            raise ValueError("TurnRunner needs a graph compiled with a checkpointer")
        return await checkpointer.aget_tuple(config)

    def _should_prune(self, result: TurnResult) -> bool:
        # Pruning every few turns keeps storage bounded at a fraction of the per-turn cost.
        return (
            bool(self.retention)
            and self.graph.checkpointer is not None
            and (result.error or result.turns % self.prune_every == 0)
        )

    async def _run(
        self, payload: Any, config: RunnableConfig, context: Context, outcome: _RunOutcome
    ) -> None:
        """Run the graph, filling `outcome` as it streams (so a failure keeps what was done)."""
        async for mode, chunk in self.graph.astream(
            payload,
            config,
            context=context,
            stream_mode=["updates", "values"],
            durability=self.durability,
        ):
            if not isinstance(chunk, dict):
                continue
            if mode == "values":
                outcome.values = chunk
                continue
            for node, update in chunk.items():
                if node == "__interrupt__":
                    outcome.interrupts += list(update)
                    outcome.replies += [_interrupt_text(i) for i in update]
                    continue
                for message in (
                    (update or {}).get("messages", []) if isinstance(update, dict) else []
                ):
                    # Text that comes with a tool call is addressed to the user too
                    # ("one transfer at a time: here is the first").
                    if isinstance(message, AIMessage) and message.text:
                        outcome.replies.append(message.text)
                    elif (
                        isinstance(message, ToolMessage)
                        and message.status != "error"
                        and handoff_destination(message) is None
                    ):
                        outcome.tool_results.append(message.text)

    async def _result(
        self,
        config: RunnableConfig,
        text: str,
        replies: list[str],
        error: bool,
        final: _RunOutcome | None,
    ) -> TurnResult:
        if final is not None and final.values is not None:
            values, interrupts = final.values, final.interrupts
        else:
            # The run failed part-way: read what the checkpoint says.
            snapshot = await self.graph.aget_state(config)
            values = snapshot.values if isinstance(snapshot.values, dict) else {}
            interrupts = list(snapshot.interrupts)
        return values_result(text, replies, values, interrupts, error=error)

    async def release(self, thread_id: str, messages: Sequence[AnyMessage] = ()) -> None:
        """Give a conversation back to the assistant after a human handled it, with
        `messages` (a handover note) added to its history."""
        update: dict[str, Any] = {"escalated": False, "escalation_reason": None}
        if messages:
            update["messages"] = list(messages)
        await self.update(thread_id, update)

    async def update(self, thread_id: str, values: dict[str, Any]) -> None:
        """Write `values` into the conversation's state between turns (a human's reply
        added to its history, an escalation by policy). Messages with the id of one
        already there replace it, so writing the same message twice keeps one."""
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        async with self._turn_lock(thread_id):
            await self.graph.aupdate_state(config, values, as_node="start_turn")


def _pending_confirmation(saved: CheckpointTuple | None) -> dict[str, Any] | None:
    """The confirmation a checkpoint is paused on, if any."""
    for item in pending_interrupts(saved):
        value = item.value
        if isinstance(value, dict) and value.get("type") == "confirmation":
            return value
    return None


def _interrupt_text(item: Interrupt) -> str:
    value = item.value
    if isinstance(value, dict):
        prompt = value.get("prompt")
        if isinstance(prompt, str):
            return prompt
    return str(value)
