"""A small async database handle that runs the same SQL on SQLite and Postgres.

SQL is written once with `?` parameter marks (never a literal `?` inside string
constants) and converted per engine; `SELECT ... FOR UPDATE` row locks are kept on
Postgres and dropped on SQLite, where `transaction()` starts with `BEGIN IMMEDIATE`
and so already holds the database write lock. `fetchone`, `fetchall` and `execute`
on a `Database` run as single autocommitted statements; inside
`async with db.transaction() as tx:` use `tx` (calling the database itself from
inside its own SQLite transaction raises `RuntimeError` instead of deadlocking).
Rows are plain dicts. Parameters may be aware datetimes and dates on both engines.
A broken UNIQUE/CHECK/FOREIGN KEY/NOT NULL constraint surfaces as
`ConstraintViolation` whatever the driver.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import aiosqlite
import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from agentgraph.domain.timestamps import require_aware, to_db_text

Engine = Literal["sqlite", "postgres"]
Row = dict[str, Any]
Params = Sequence[Any]

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_INTEGER = 2**63 - 1

_FOR_UPDATE = re.compile(r"\s+FOR\s+UPDATE\b", re.IGNORECASE)


class ConstraintViolation(Exception):
    """A statement broke a database constraint.

    `kind` is one of unique, check, foreign_key, not_null, other. `detail` holds the
    constraint name on Postgres and the driver message on SQLite; both contain the
    name of a named CHECK constraint, so `constraint in violation.detail` works on
    either engine.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind} constraint violated: {detail}")
        self.kind = kind
        self.detail = detail


@lru_cache(maxsize=1024)
def sqlite_sql(sql: str) -> str:
    """`sql` as SQLite runs it: `FOR UPDATE` dropped, since `BEGIN IMMEDIATE` already holds
    the database write lock. Cached per statement text."""
    return _FOR_UPDATE.sub("", sql)


@lru_cache(maxsize=1024)
def postgres_sql(sql: str) -> str:
    """`sql` as psycopg runs it: `%` doubled, then every `?` turned into `%s` (a `?` inside a
    string constant would be turned too). Cached per statement text."""
    return sql.replace("%", "%%").replace("?", "%s")


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _postgres_param(value: Any) -> Any:
    if isinstance(value, datetime):
        return require_aware(value)
    return value


def _sqlite_violation(exc: sqlite3.IntegrityError) -> ConstraintViolation:
    message = str(exc)
    for prefix, kind in (
        ("UNIQUE", "unique"),
        ("CHECK", "check"),
        ("FOREIGN KEY", "foreign_key"),
        ("NOT NULL", "not_null"),
    ):
        if message.startswith(prefix):
            return ConstraintViolation(kind, message)
    return ConstraintViolation("other", message)


def _postgres_violation(exc: psycopg.errors.IntegrityError) -> ConstraintViolation:
    kinds: dict[type[Exception], str] = {
        psycopg.errors.UniqueViolation: "unique",
        psycopg.errors.CheckViolation: "check",
        psycopg.errors.ForeignKeyViolation: "foreign_key",
        psycopg.errors.NotNullViolation: "not_null",
    }
    kind = kinds.get(type(exc), "other")
    return ConstraintViolation(kind, exc.diag.constraint_name or str(exc))


def is_row_id(value: object) -> bool:
    """True for an int both engines can store as a row id (bools are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_INTEGER


class Executor(ABC):
    """Anything that runs statements: a database or a transaction handle."""

    engine: Engine

    @abstractmethod
    async def _query(self, sql: str, params: Params) -> tuple[list[Row], int]:
        """Run one statement; return its rows (empty without a result set) and rowcount."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of the result, or None when there is none. The whole result is read,
        so a statement that may match many rows should say `LIMIT 1`."""
        rows, _ = await self._query(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of the result in the order the database returned them; `[]` for none."""
        rows, _ = await self._query(sql, params)
        return rows

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchone(sql, params)
        return None if row is None else next(iter(row.values()))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns the number of rows it affected."""
        _, rowcount = await self._query(sql, params)
        return rowcount


class Database(Executor):
    """A connection (SQLite) or pool (Postgres) the repositories share."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Executor]:
        """`async with db.transaction() as tx`: commit on success, roll back on error."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the handle is unusable afterwards."""


class _SqliteConnection(Executor):
    engine: Engine = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.closed = False

    async def _query(self, sql: str, params: Params) -> tuple[list[Row], int]:
        if self.closed:
            raise RuntimeError("transaction handle used after its transaction ended")
        try:
            async with self._conn.execute(
                sqlite_sql(sql), [_sqlite_param(p) for p in params]
            ) as cursor:
                rows = await cursor.fetchall()
                return [dict(row) for row in rows], cursor.rowcount
        except sqlite3.IntegrityError as exc:
            raise _sqlite_violation(exc) from exc


# Which SqliteDatabase (by id) the current task is inside a transaction of.
_sqlite_tx_owner: ContextVar[int | None] = ContextVar("_sqlite_tx_owner", default=None)


class SqliteDatabase(Database):
    """One aiosqlite connection; an asyncio lock keeps statements of concurrent
    coroutines out of each other's transactions. Other processes (or other
    `SqliteDatabase` objects on the same file) are serialised by SQLite's own
    write lock, waited for up to `SQLITE_BUSY_TIMEOUT_MS`."""

    engine: Engine = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._plain = _SqliteConnection(conn)
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> SqliteDatabase:
        """Connect to the SQLite file `path` (creating it and its folder) or `:memory:`, in WAL
        mode with foreign keys enforced; not migrated."""
        if str(path) != ":memory:":
            # Off the event loop: servers such as `langgraph dev` refuse blocking calls.
            await asyncio.to_thread(Path(path).parent.mkdir, parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = sqlite3.Row
        # WAL lets readers proceed while a writer holds the lock; busy_timeout makes
        # a second writer wait instead of failing at once.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
        return cls(conn)

    def _check_not_in_own_transaction(self) -> None:
        if _sqlite_tx_owner.get() == id(self):
            raise RuntimeError("inside db.transaction() run statements on the transaction handle")

    async def _query(self, sql: str, params: Params) -> tuple[list[Row], int]:
        self._check_not_in_own_transaction()
        async with self._lock:
            return await self._plain._query(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """A `BEGIN IMMEDIATE` transaction: it holds this object's lock and SQLite's write lock
        from the start, commits when the block exits normally and rolls back on any exception
        (cancellation included). Other coroutines' statements wait until it ends; statements
        on the database itself from inside the block, and on the handle after it, raise
        `RuntimeError`."""
        self._check_not_in_own_transaction()
        async with self._lock:
            # IMMEDIATE takes the write lock up front, so two writers never both read a
            # balance and then both try to upgrade (which SQLite would refuse at once).
            await self._conn.execute("BEGIN IMMEDIATE")
            token = _sqlite_tx_owner.set(id(self))
            handle = _SqliteConnection(self._conn)
            try:
                yield handle
                handle.closed = True
                await self._conn.execute("COMMIT")
            except BaseException:
                handle.closed = True
                await self._conn.execute("ROLLBACK")
                raise
            finally:
                _sqlite_tx_owner.reset(token)

    async def close(self) -> None:
        """Close the connection once a running statement or transaction has finished."""
        async with self._lock:
            await self._conn.close()


async def _postgres_query(
    conn: AsyncConnection[Any], sql: str, params: Params
) -> tuple[list[Row], int]:
    try:
        # An explicit dict_row cursor: a shared pool may have been opened with another
        # row factory.
        async with conn.cursor(row_factory=dict_row) as cursor:
            # psycopg types the query as LiteralString, which mypy reads as str, so no cast:
            # the text comes from this package's own constants; values are parameters.
            await cursor.execute(postgres_sql(sql), [_postgres_param(p) for p in params])
            rows = await cursor.fetchall() if cursor.description is not None else []
            return list(rows), cursor.rowcount
    except psycopg.errors.IntegrityError as exc:
        raise _postgres_violation(exc) from exc


class _PostgresConnection(Executor):
    engine: Engine = "postgres"

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn
        self.closed = False

    async def _query(self, sql: str, params: Params) -> tuple[list[Row], int]:
        if self.closed:
            raise RuntimeError("transaction handle used after its transaction ended")
        return await _postgres_query(self._conn, sql, params)


# Any row type: a shared pool is typed by whoever opened it; queries here use their
# own dict_row cursors.
PoolType = AsyncConnectionPool[Any]


class PostgresDatabase(Database):
    """Statements on the process's psycopg pool (`agentgraph.persistence` opens it).

    `close()` closes the pool only when `owns_pool` says this object was handed
    ownership of it."""

    engine: Engine = "postgres"

    def __init__(self, pool: PoolType, *, owns_pool: bool = False) -> None:
        self._pool = pool
        self._owns_pool = owns_pool

    @property
    def pool(self) -> PoolType:
        """The psycopg pool statements run on; `close()` closes it only when `owns_pool`."""
        return self._pool

    async def _query(self, sql: str, params: Params) -> tuple[list[Row], int]:
        async with self._pool.connection() as conn:
            result = await _postgres_query(conn, sql, params)
            if not conn.autocommit:
                # A shared pool opened without autocommit would roll this back on release.
                await conn.commit()
            return result

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """A transaction on one pooled connection: commits when the block exits normally, rolls
        back on any exception. Rows are locked only by the statements' own `FOR UPDATE`; the
        handle raises `RuntimeError` once the block has ended."""
        async with self._pool.connection() as conn, conn.transaction():
            handle = _PostgresConnection(conn)
            try:
                yield handle
            finally:
                handle.closed = True

    async def close(self) -> None:
        """Close the pool when this object owns it; otherwise leave it to whoever opened it."""
        if self._owns_pool:
            await self._pool.close()
