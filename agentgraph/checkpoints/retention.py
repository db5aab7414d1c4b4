"""Checkpoint retention: keep the newest N checkpoints of a thread, delete the rest.

LangGraph's open-source savers keep every checkpoint forever, so a long WhatsApp
conversation would grow storage without bound. `prune_thread` is called every few
turns (under the per-conversation turn lock, so no run writes to the thread while it
prunes). It understands the three savers agentgraph uses: InMemorySaver,
AsyncSqliteSaver and AsyncPostgresSaver. Pending writes of kept checkpoints (which
hold an open interrupt) are never touched. agentgraph graphs use no DeltaChannel, so
dropping ancestors cannot sever a kept checkpoint's state. `delete_thread` removes a
whole conversation (erasure) through the savers' public `adelete_thread`.

Why not the savers' own pruning hook: `BaseCheckpointSaver.aprune(strategy=
"keep_latest")` keeps exactly one checkpoint, and only the Postgres saver implements
it. Keeping the last N (`AGENTGRAPH_CHECKPOINT_RETENTION`) leaves a conversation's
recent steps inspectable in Studio and by time travel, on every engine. So the
statements are written here, against the savers' public `conn` and `lock`
attributes and LangGraph's table layout; tests/integration/test_durability.py
checks that checkpoints, writes and blobs stop growing on both engines, so a schema
change in an upgrade fails the suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

__all__ = ["delete_thread", "prune_thread"]


async def prune_thread(checkpointer: BaseCheckpointSaver[str], thread_id: str, keep: int) -> int:
    """Delete all but the `keep` newest checkpoints of `thread_id`; return how many went."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    if isinstance(checkpointer, AsyncPostgresSaver):
        return await _prune_postgres(checkpointer, thread_id, keep)
    if isinstance(checkpointer, AsyncSqliteSaver):
        return await _prune_sqlite(checkpointer, thread_id, keep)
    if isinstance(checkpointer, InMemorySaver):
        return _prune_memory(checkpointer, thread_id, keep)
    raise TypeError(f"no retention support for {type(checkpointer).__name__}")


async def _prune_sqlite(saver: AsyncSqliteSaver, thread_id: str, keep: int) -> int:
    async with saver.lock, saver.conn.cursor() as cur:
        await cur.execute(
            "SELECT checkpoint_ns, checkpoint_id FROM checkpoints WHERE thread_id = ? "
            "ORDER BY checkpoint_ns, checkpoint_id DESC",
            (thread_id,),
        )
        rows = await cur.fetchall()
        doomed: list[tuple[str, str]] = []
        seen: dict[str, int] = {}
        for ns, cid in rows:
            seen[ns] = seen.get(ns, 0) + 1
            if seen[ns] > keep:
                doomed.append((ns, cid))
        if not doomed:
            return 0
        await cur.executemany(
            "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
            [(thread_id, ns, cid) for ns, cid in doomed],
        )
        await cur.executemany(
            "DELETE FROM checkpoints"
            " WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
            [(thread_id, ns, cid) for ns, cid in doomed],
        )
        await cur.execute(
            "UPDATE checkpoints SET parent_checkpoint_id = NULL WHERE thread_id = ? "
            "AND parent_checkpoint_id IS NOT NULL AND parent_checkpoint_id NOT IN "
            "(SELECT checkpoint_id FROM checkpoints WHERE thread_id = ?)",
            (thread_id, thread_id),
        )
        await saver.conn.commit()
        return len(doomed)


_PG_DOOMED = """
SELECT checkpoint_ns, checkpoint_id FROM (
  SELECT checkpoint_ns, checkpoint_id,
         row_number() OVER (PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS rank
  FROM checkpoints WHERE thread_id = %s
) ranked WHERE rank > %s
"""
_PG_DELETE_WRITES = """
DELETE FROM checkpoint_writes WHERE thread_id = %s AND checkpoint_ns = %s
AND checkpoint_id = ANY(%s)
"""
_PG_DELETE_CHECKPOINTS = """
DELETE FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = ANY(%s)
"""
_PG_ORPHAN_PARENTS = """
UPDATE checkpoints c SET parent_checkpoint_id = NULL
WHERE c.thread_id = %s AND c.parent_checkpoint_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM checkpoints p WHERE p.thread_id = c.thread_id
  AND p.checkpoint_ns = c.checkpoint_ns AND p.checkpoint_id = c.parent_checkpoint_id)
"""
# A blob stays while any kept checkpoint of its namespace still names its version.
_PG_GARBAGE_BLOBS = """
DELETE FROM checkpoint_blobs b WHERE b.thread_id = %s AND NOT EXISTS (
  SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id
  AND c.checkpoint_ns = b.checkpoint_ns
  AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)
"""


@asynccontextmanager
async def _postgres_connection(saver: AsyncPostgresSaver) -> AsyncIterator[AsyncConnection[Any]]:
    """A connection of the saver: its own from the pool, or its single one under its lock."""
    if isinstance(saver.conn, AsyncConnectionPool):
        async with saver.conn.connection() as conn:
            yield conn
    else:
        async with saver.lock:
            yield saver.conn


async def _prune_postgres(saver: AsyncPostgresSaver, thread_id: str, keep: int) -> int:
    async with (
        _postgres_connection(saver) as conn,
        conn.transaction(),
        conn.cursor(row_factory=dict_row) as cur,
    ):
        await cur.execute(_PG_DOOMED, (thread_id, keep), prepare=False)
        doomed = await cur.fetchall()
        if not doomed:
            return 0
        by_ns: dict[str, list[str]] = {}
        for row in doomed:
            by_ns.setdefault(row["checkpoint_ns"], []).append(row["checkpoint_id"])
        for ns, ids in by_ns.items():
            await cur.execute(_PG_DELETE_WRITES, (thread_id, ns, ids), prepare=False)
            await cur.execute(_PG_DELETE_CHECKPOINTS, (thread_id, ns, ids), prepare=False)
        await cur.execute(_PG_ORPHAN_PARENTS, (thread_id,), prepare=False)
        await cur.execute(_PG_GARBAGE_BLOBS, (thread_id,), prepare=False)
        return len(doomed)


def _prune_memory(saver: InMemorySaver, thread_id: str, keep: int) -> int:
    removed = 0
    referenced: set[tuple[str, str, str]] = set()
    for ns, checkpoints in saver.storage.get(thread_id, {}).items():
        ordered = sorted(checkpoints, reverse=True)
        for cid in ordered[keep:]:
            del checkpoints[cid]
            saver.writes.pop((thread_id, ns, cid), None)
            removed += 1
        for cid in ordered[:keep]:
            checkpoint = saver.serde.loads_typed(checkpoints[cid][0])
            for channel, version in checkpoint.get("channel_versions", {}).items():
                referenced.add((ns, channel, str(version)))
    for key in [k for k in saver.blobs if k[0] == thread_id]:
        _, ns, channel, version = key
        if (ns, channel, str(version)) not in referenced:
            del saver.blobs[key]
    return removed


async def delete_thread(checkpointer: BaseCheckpointSaver[str], thread_id: str) -> None:
    """Delete every checkpoint, write and blob of `thread_id` (the saver's public API)."""
    await checkpointer.adelete_thread(thread_id)
