"""Checkpointer, store and domain backend for a process, opened and closed together.

`open_persistence(settings)` is the one place that opens database connections:
with `DATABASE_URL` unset it uses SQLite files under `AGENTGRAPH_DATA_DIR`
(`checkpoints.sqlite3` for LangGraph checkpoints, `store.sqlite3` for the store,
`agentgraph.sqlite3` for the domain tables); with `DATABASE_URL=postgresql://...` it
opens one psycopg `AsyncConnectionPool` shared by `AsyncPostgresSaver`, `AsyncPostgresStore` and the
domain. Schema set-up is idempotent and serialised across processes, so every
process may call it at start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from agentgraph.checkpoints import PreloadingPostgresSaver, PreloadingSqliteSaver
from agentgraph.config import Settings
from agentgraph.domain import Domain, open_domain

# Arbitrary constant: the advisory lock that serialises LangGraph schema set-up.
_SETUP_LOCK_KEY = 7_310_411_202


async def _acquire_setup_lock(conn: AsyncConnection[Any]) -> None:
    """Take the set-up lock by polling, never by a blocking `pg_advisory_lock`.

    The store's set-up runs `CREATE INDEX CONCURRENTLY`, which waits for every open
    statement's snapshot; a second process blocked inside `pg_advisory_lock` holds one,
    so the two would wait on each other forever. Short polls hold nothing in between.
    """
    while True:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_SETUP_LOCK_KEY,))
        row = await cursor.fetchone()
        if row and row["ok"]:
            return
        await asyncio.sleep(0.2)


@dataclass
class Persistence:
    """Everything durable a graph run needs."""

    checkpointer: BaseCheckpointSaver[str]
    store: BaseStore
    domain: Domain
    engine: str


def pool_kwargs() -> dict[str, object]:
    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


@asynccontextmanager
async def open_postgres_pool(url: str, *, max_size: int = 10) -> AsyncIterator[AsyncConnectionPool]:
    """The process's single Postgres pool (DESIGN: one per process)."""
    pool = AsyncConnectionPool(
        url, min_size=1, max_size=max_size, kwargs=pool_kwargs(), open=False, timeout=10
    )
    await pool.open(wait=True, timeout=10)
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def open_persistence(settings: Settings, *, setup: bool = True) -> AsyncIterator[Persistence]:
    """Open checkpointer, store and domain for `settings`; run migrations when `setup`."""
    if settings.database_url:
        async with open_postgres_pool(settings.database_url) as pool:
            checkpointer = PreloadingPostgresSaver(pool)  # type: ignore[arg-type]
            store = AsyncPostgresStore(pool)  # type: ignore[arg-type]
            domain = Domain.from_pool(
                pool,
                transfer_limit=settings.transfer_limit,
                daily_transfer_limit=settings.daily_transfer_limit,
            )
            if setup:
                async with pool.connection() as conn:
                    await _acquire_setup_lock(conn)
                    try:
                        await checkpointer.setup()
                        await store.setup()
                        await domain.migrate()
                    finally:
                        await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
            yield Persistence(checkpointer, store, domain, "postgres")
        return

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Separate files: the store's implicit transactions must never lock out checkpoint writes.
    async with (
        aiosqlite.connect(settings.data_dir / "checkpoints.sqlite3") as saver_conn,
        # Autocommit: AsyncSqliteStore issues its own BEGIN/COMMIT; sqlite3's implicit
        # transactions would otherwise make the second statement fail.
        aiosqlite.connect(settings.data_dir / "store.sqlite3", isolation_level=None) as store_conn,
        open_domain(settings) as domain,
    ):
        for sqlite_conn in (saver_conn, store_conn):
            await sqlite_conn.execute("PRAGMA journal_mode=WAL")
            await sqlite_conn.execute("PRAGMA busy_timeout=5000")
        checkpointer_sqlite = PreloadingSqliteSaver(saver_conn)
        store_sqlite = AsyncSqliteStore(store_conn)
        if setup:
            await checkpointer_sqlite.setup()
            await store_sqlite.setup()
        yield Persistence(checkpointer_sqlite, store_sqlite, domain, "sqlite")
