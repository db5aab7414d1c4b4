"""Checkpointer, store and domain backend for a process, opened and closed together.

This is the one place that opens database connections. `open_persistence(settings)`
with `DATABASE_URL` unset uses SQLite files under `AGENTGRAPH_DATA_DIR`
(`checkpoints.sqlite3` for LangGraph checkpoints, `store.sqlite3` for the store,
`agentgraph.sqlite3` for the domain tables); with `DATABASE_URL=postgresql://...` it
opens one psycopg `AsyncConnectionPool` (`open_postgres_pool`) shared by
`AsyncPostgresSaver`, `AsyncPostgresStore` and the domain. `open_domain(settings)`
opens the domain alone, the same way. Schema set-up is idempotent and serialised
across processes, so every process may call it at start-up. `Persistence.location`
says where the data lives (the Postgres URL without its password, or the data
directory's absolute path). The domain gets the agent registry's rules (the tool
catalogue, the model allow-list) and, with `REDIS_URL`, a Redis client that shares
registry changes between processes (`agentgraph.domain.agent_view`) and the
human inbox's events (`agentgraph.domain.inbox_feed`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from agentgraph.checkpoints import PreloadingPostgresSaver, PreloadingSqliteSaver
from agentgraph.clock import Clock
from agentgraph.config import Settings
from agentgraph.domain import Domain
from agentgraph.domain.agent_records import RegistryRules
from agentgraph.tools import tool_catalogue

__all__ = [
    "Persistence",
    "domain_sqlite_path",
    "open_domain",
    "open_persistence",
    "open_postgres_pool",
    "pool_kwargs",
]

# Arbitrary constant: the advisory lock that serialises LangGraph schema set-up.
_SETUP_LOCK_KEY = 7_310_411_202
DOMAIN_SQLITE_FILE = "agentgraph.sqlite3"


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
    location: str


def pool_kwargs() -> dict[str, object]:
    """Connection settings of every pool (DESIGN: autocommit, no prepared statements)."""
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


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def domain_sqlite_path(settings: Settings) -> Path:
    """Where the embedded domain database lives for these settings."""
    return Path(settings.data_dir) / DOMAIN_SQLITE_FILE


def _pseudonym_key(settings: Settings) -> bytes | None:
    key = settings.pseudonym_key
    return None if key is None else key.get_secret_value().encode()


def registry_rules(settings: Settings) -> RegistryRules:
    """What agent registry writes are checked against: tool names and allowed models."""
    return RegistryRules(
        tools=frozenset(entry.name for entry in tool_catalogue()),
        models=settings.allowed_models,
    )


def _domain_from(settings: Settings, pool: AsyncConnectionPool, clock: Clock | None) -> Domain:
    return Domain.from_pool(
        pool,
        clock=clock,
        transfer_limit=settings.transfer_limit,
        daily_transfer_limit=settings.daily_transfer_limit,
        pseudonym_key=_pseudonym_key(settings),
        registry_rules=registry_rules(settings),
    )


@asynccontextmanager
async def _sharing_registry(settings: Settings, domain: Domain) -> AsyncIterator[None]:
    """With REDIS_URL, registry changes and inbox events go through Redis while open."""
    domain.agent_view.refresh_seconds = settings.registry_refresh_seconds
    if not settings.redis_url:
        yield
        return
    import redis.asyncio as aioredis

    client = aioredis.from_url(settings.redis_url, decode_responses=True)
    domain.agent_signal.share(client, f"{settings.redis_prefix}:agents:version")
    domain.inbox_feed.share(client, f"{settings.redis_prefix}:inbox")
    try:
        yield
    finally:
        await client.aclose()


@asynccontextmanager
async def open_domain(
    settings: Settings, *, clock: Clock | None = None, migrate: bool = True
) -> AsyncIterator[Domain]:
    """A `Domain` for `settings` (its own pool or SQLite file), migrated unless
    `migrate=False`, closed on exit."""
    if settings.database_url:
        async with (
            open_postgres_pool(settings.database_url) as pool,
            AsyncExitStack() as stack,
        ):
            domain = _domain_from(settings, pool, clock)
            await stack.enter_async_context(_sharing_registry(settings, domain))
            if migrate:
                await domain.migrate()
            yield domain
        return
    domain = await Domain.sqlite(
        domain_sqlite_path(settings),
        clock=clock,
        transfer_limit=settings.transfer_limit,
        daily_transfer_limit=settings.daily_transfer_limit,
        pseudonym_key=_pseudonym_key(settings),
        registry_rules=registry_rules(settings),
    )
    try:
        async with _sharing_registry(settings, domain):
            if migrate:
                await domain.migrate()
            yield domain
    finally:
        await domain.close()


@asynccontextmanager
async def open_persistence(
    settings: Settings, *, setup: bool = True, clock: Clock | None = None
) -> AsyncIterator[Persistence]:
    """Open checkpointer, store and domain for `settings`; run migrations when `setup`."""
    if settings.database_url:
        async with open_postgres_pool(settings.database_url) as pool, AsyncExitStack() as stack:
            checkpointer = PreloadingPostgresSaver(pool)  # type: ignore[arg-type]
            store = AsyncPostgresStore(pool)  # type: ignore[arg-type]
            domain = _domain_from(settings, pool, clock)
            await stack.enter_async_context(_sharing_registry(settings, domain))
            if setup:
                async with pool.connection() as conn:
                    await _acquire_setup_lock(conn)
                    try:
                        await checkpointer.setup()
                        await store.setup()
                        await domain.migrate()
                    finally:
                        await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
            location = _without_password(settings.database_url)
            yield Persistence(checkpointer, store, domain, "postgres", location)
        return

    # Off the event loop: servers such as `langgraph dev` refuse blocking calls.
    data_dir = await asyncio.to_thread(_ensure_dir, Path(settings.data_dir))
    # Separate files: the store's implicit transactions must never lock out checkpoint writes.
    async with (
        aiosqlite.connect(data_dir / "checkpoints.sqlite3") as saver_conn,
        # Autocommit: AsyncSqliteStore issues its own BEGIN/COMMIT; sqlite3's implicit
        # transactions would otherwise make the second statement fail.
        aiosqlite.connect(data_dir / "store.sqlite3", isolation_level=None) as store_conn,
        open_domain(settings, clock=clock) as domain,
    ):
        for sqlite_conn in (saver_conn, store_conn):
            await sqlite_conn.execute("PRAGMA journal_mode=WAL")
            await sqlite_conn.execute("PRAGMA busy_timeout=5000")
        checkpointer_sqlite = PreloadingSqliteSaver(saver_conn)
        store_sqlite = AsyncSqliteStore(store_conn)
        if setup:
            await checkpointer_sqlite.setup()
            await store_sqlite.setup()
        yield Persistence(checkpointer_sqlite, store_sqlite, domain, "sqlite", str(data_dir))
