"""Checkpoint savers that can be handed the checkpoint a turn has already read.

Before each turn `TurnRunner` reads the thread's latest checkpoint to see whether a
confirmation is pending; the graph run then reads the same checkpoint again. On
Postgres that second read (query plus deserialising every channel) is about a
twentieth of a WhatsApp message's CPU. The savers here skip it: inside
`preloaded(saver, thread_id, saved)`, the saver's first `aget_tuple` for the latest
checkpoint of that thread answers `saved` without a query, once; every other call
goes to the database as usual. It is only correct while nothing else writes the
thread in between, which the runner guarantees: it holds the thread's turn lock
(and the WhatsApp channel its cross-process lock) from the read to the end of the run.

`open_persistence` builds these subclasses of the stock savers, so `isinstance`
checks and everything else behave as before.

`PreloadingPostgresSaver` also trims the stock saver's per-turn overhead on a
connection pool, where each operation has a connection of its own:

* no process-wide `asyncio.Lock` around every statement (the stock saver needs it
  for a single shared connection; on a pool it only queued the turns of different
  conversations behind each other);
* the pending writes it reads and the channel blobs and writes it stores are (de)serialised
  on the event loop instead of in a thread (`asyncio.to_thread`). Deserialising is
  Python work that holds the GIL, so the thread never left the loop free meanwhile;
  it only added two hops per turn, each of which could wait for the GIL behind the
  busy loop (a turn's state is a few kilobytes: the message window is pruned);
* as in the stock saver, a checkpoint's blob rows and checkpoint row go in one
  pipeline, which Postgres runs as one implicit transaction (one commit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Interrupt
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

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


class PreloadingSaver:
    """Mixin for a checkpoint saver: serve one already-read latest checkpoint."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        preload = _PRELOAD.get()
        if preload is not None and not preload.used and _is_latest_of(config, preload):
            preload.used = True
            return preload.saved
        return await super().aget_tuple(config)  # type: ignore[misc]


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


class PreloadingPostgresSaver(PreloadingSaver, AsyncPostgresSaver):
    """`AsyncPostgresSaver` that can skip a turn's second read of the same checkpoint,
    and on a pool runs without the saver-wide lock and the thread hops."""

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if self.pipe is not None or not isinstance(self.conn, AsyncConnectionPool):
            # One shared connection: the stock saver's lock is what keeps it safe.
            async with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        async with self.conn.connection() as conn:
            if not pipeline:
                async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            elif self.supports_pipeline:
                # Until the pipeline's sync, its statements are one implicit
                # transaction: all of a checkpoint's rows commit together, once.
                async with conn.pipeline(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            else:
                async with (
                    conn.transaction(),
                    conn.cursor(binary=True, row_factory=dict_row) as cur,
                ):
                    yield cur

    async def _load_checkpoint_tuple(self, value: DictRow) -> CheckpointTuple:
        thread_id, ns = value["thread_id"], value["checkpoint_ns"]
        parent = value["parent_checkpoint_id"]
        saved = value["checkpoint"]
        channel_values = {
            **(saved.get("channel_values") or {}),
            **self._load_blobs(value["channel_values"]),
        }
        checkpoint = cast(Checkpoint, {**saved, "channel_values": channel_values})
        return CheckpointTuple(
            {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": ns,
                    "checkpoint_id": value["checkpoint_id"],
                }
            },
            checkpoint,
            value["metadata"],
            (
                {
                    "configurable": {
                        "thread_id": thread_id,
                        "checkpoint_ns": ns,
                        "checkpoint_id": parent,
                    }
                }
                if parent
                else None
            ),
            self._load_writes(value["pending_writes"]),
        )

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The stock `aput`, with the blobs serialised on the loop, not in a thread."""
        configurable = config["configurable"].copy()
        thread_id = configurable.pop("thread_id")
        checkpoint_ns = configurable.pop("checkpoint_ns")
        parent_id = configurable.pop("checkpoint_id", None)
        copy = checkpoint.copy()
        copy["channel_values"] = copy["channel_values"].copy()
        blob_values: dict[str, Any] = {}
        for key, value in checkpoint["channel_values"].items():
            if isinstance(value, _DeltaSnapshot):
                blob_values[key] = copy["channel_values"].pop(key)
                copy["channel_values"][key] = True
            elif value is None or isinstance(value, str | int | float | bool):
                pass
            else:
                blob_values[key] = copy["channel_values"].pop(key)
        blob_versions = {k: v for k, v in new_versions.items() if k in blob_values}
        blobs = self._dump_blobs(thread_id, checkpoint_ns, blob_values, blob_versions)
        async with self._cursor(pipeline=True) as cur:
            if blobs:
                await cur.executemany(self.UPSERT_CHECKPOINT_BLOBS_SQL, blobs)
            await cur.execute(
                self.UPSERT_CHECKPOINTS_SQL,
                (
                    thread_id,
                    checkpoint_ns,
                    checkpoint["id"],
                    parent_id,
                    Jsonb(copy),
                    Jsonb(get_serializable_checkpoint_metadata(config, metadata)),
                ),
            )
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": checkpoint_ns,
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """The stock `aput_writes`, with the writes serialised on the loop."""
        query = (
            self.UPSERT_CHECKPOINT_WRITES_SQL
            if all(w[0] in WRITES_IDX_MAP for w in writes)
            else self.INSERT_CHECKPOINT_WRITES_SQL
        )
        conf = config["configurable"]
        params = self._dump_writes(
            conf["thread_id"],
            conf["checkpoint_ns"],
            conf["checkpoint_id"],
            task_id,
            task_path,
            writes,
        )
        async with self._cursor(pipeline=True) as cur:
            await cur.executemany(query, params)


class PreloadingSqliteSaver(PreloadingSaver, AsyncSqliteSaver):
    """`AsyncSqliteSaver` that can skip a turn's second read of the same checkpoint."""


class PreloadingInMemorySaver(PreloadingSaver, InMemorySaver):
    """`InMemorySaver` that can skip a turn's second read of the same checkpoint."""
