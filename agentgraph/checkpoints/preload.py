"""Serving a checkpoint a turn has already read, and reading its pending interrupts.

Before each turn `TurnRunner` reads the thread's latest checkpoint to see whether a
confirmation is pending; the graph run then reads the same checkpoint again. On
Postgres that second read (query plus deserialising every channel) is about a
twentieth of a WhatsApp message's CPU. The savers of this package skip it: inside
`preloaded(saver, thread_id, saved)`, the saver's first `aget_tuple` for the latest
checkpoint of that thread answers `saved` without a query, once; every other call
goes to the database as usual. It is only correct while nothing else writes the
thread in between, which the runner guarantees: it holds the thread's turn lock
(and the WhatsApp channel its cross-process lock) from the read to the end of the run.

`pending_interrupts(saved)` answers what `StateSnapshot.interrupts` would, from the
checkpoint tuple alone, following LangGraph's own task rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Interrupt

INTERRUPT_CHANNEL = "__interrupt__"
# What a task's writes may hold besides its output (langgraph's control writes).
CONTROL_CHANNELS = frozenset(
    {INTERRUPT_CHANNEL, "__resume__", "__error__", "__error_source_node__"}
)
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"


@dataclass
class _Preload:
    thread_id: str
    saved: CheckpointTuple | None
    used: bool = False


_PRELOAD: ContextVar[_Preload | None] = ContextVar("agentgraph_checkpoint_preload", default=None)


class PreloadingSaver(BaseCheckpointSaver[str]):
    """Mixin for a checkpoint saver: serve one already-read latest checkpoint.

    It derives from `BaseCheckpointSaver` so that `super().aget_tuple` is typed; listed
    before a concrete saver, it leaves that saver's method order as it was."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The preloaded checkpoint, once, when `config` asks for the latest checkpoint of
        the thread `preloaded` named; otherwise the saver's own read."""
        preload = _PRELOAD.get()
        if preload is not None and not preload.used and _is_latest_of(config, preload):
            preload.used = True
            return preload.saved
        return await super().aget_tuple(config)


def _is_latest_of(config: RunnableConfig, preload: _Preload) -> bool:
    conf = config.get("configurable") or {}
    return (
        conf.get("thread_id") == preload.thread_id
        and not conf.get("checkpoint_ns")
        and not conf.get("checkpoint_id")
    )


@contextmanager
def preloaded(saver: object, thread_id: str, saved: CheckpointTuple | None) -> Iterator[None]:
    """Within the block, `saver`'s next latest-checkpoint read of `thread_id` is `saved`."""
    if not isinstance(saver, PreloadingSaver):
        yield
        return
    token = _PRELOAD.set(_Preload(thread_id, saved))
    try:
        yield
    finally:
        _PRELOAD.reset(token)


def pending_interrupts(saved: CheckpointTuple | None) -> list[Interrupt]:
    """The interrupts a checkpoint is paused on (what `StateSnapshot.interrupts` lists).

    LangGraph's rule (`langgraph.pregel._task_status`): a task's latest interrupt is
    still waiting only while the task has not finished, and a task has finished once
    it recorded any write other than the control writes; writes of the null task are
    the step's input, not task activity."""
    if saved is None or not saved.pending_writes:
        return []
    finished = {
        task
        for task, channel, _ in saved.pending_writes
        if task != NULL_TASK_ID and channel not in CONTROL_CHANNELS
    }
    found: list[Interrupt] = []
    for task, channel, value in saved.pending_writes:
        if channel != INTERRUPT_CHANNEL or task == NULL_TASK_ID or task in finished:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, Interrupt):
                found.append(item)
    return found


class PreloadingSqliteSaver(PreloadingSaver, AsyncSqliteSaver):
    """`AsyncSqliteSaver` that can skip a turn's second read of the same checkpoint."""


class PreloadingInMemorySaver(PreloadingSaver, InMemorySaver):
    """`InMemorySaver` that can skip a turn's second read of the same checkpoint."""
