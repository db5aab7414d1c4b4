"""`PreloadingPostgresSaver`: the stock Postgres saver, trimmed for a connection pool.

Besides serving a preloaded checkpoint (`agentgraph.checkpoints.preload`), it trims
the stock saver's per-turn overhead on a pool, where each operation has a
connection of its own:

* no process-wide `asyncio.Lock` around every statement (the stock saver needs it
  for a single shared connection; on a pool it only queued the turns of different
  conversations behind each other);
* the pending writes it reads and the channel blobs and writes it stores are
  (de)serialised on the event loop instead of in a thread (`asyncio.to_thread`).
  Deserialising is Python work that holds the GIL, so the thread never left the
  loop free meanwhile; it only added two hops per turn;
* as in the stock saver, a checkpoint's blob rows and checkpoint row go in one
  pipeline, which Postgres runs as one implicit transaction (one commit).

This overrides private methods of `AsyncPostgresSaver` (`_cursor`,
`_load_checkpoint_tuple`) and calls private helpers (`_load_blobs`, `_load_writes`,
`_dump_blobs`, `_dump_writes`, the `*_SQL` statements), because the public API has
no hook for either saving. tests/integration/test_postgres_saver.py checks the
behaviour they rely on (each saver reads back what the other wrote, interrupts and
pending writes included; no thread hop; no saver-wide wait on a pool), so a
langgraph-checkpoint-postgres upgrade that changes them fails the suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
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
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from psycopg import AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from agentgraph.checkpoints.preload import PreloadingSaver


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
