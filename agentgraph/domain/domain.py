"""The `Domain` object: one database handle and every repository built on it.

`open_domain(settings)` is the usual entry: Postgres when `settings.database_url` is
set, else the SQLite file `settings.data_dir / "agentgraph.sqlite3"` (directory
created); it migrates, yields the `Domain` and closes it on exit. `Domain.connect`
opens without migrating (call `await domain.migrate()`), and `Domain.from_pool`
wraps the process's existing psycopg pool without taking ownership of it. Money
limits and the clock are constructor arguments, not settings reads, so tests and
tenants can set them; every stored time is UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from agentgraph.clock import KIGALI, SYSTEM_CLOCK, Clock
from agentgraph.domain import migrations
from agentgraph.domain.accounts import Accounts
from agentgraph.domain.bookings import Bookings
from agentgraph.domain.db import Database, Engine, PoolType, PostgresDatabase, open_database
from agentgraph.domain.flags import Flags
from agentgraph.domain.profiles import Profiles
from agentgraph.domain.support import Support
from agentgraph.domain.timestamps import CheckedClock
from agentgraph.domain.trips import Trips
from agentgraph.domain.wallets import (
    DEFAULT_DAILY_TRANSFER_LIMIT,
    DEFAULT_TRANSFER_LIMIT,
    Wallets,
)

if TYPE_CHECKING:
    from agentgraph.config import Settings

SQLITE_FILE_NAME = "agentgraph.sqlite3"


class Domain:
    """The business backend. Repositories are attributes (`profiles`, `wallets`,
    `trips`, `bookings`, `support`, `accounts`, `flags`); every method takes the
    tenant slug first."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
        local_tz: tzinfo = KIGALI,
    ) -> None:
        if transfer_limit <= 0 or daily_transfer_limit <= 0:
            raise ValueError("transfer limits must be positive")
        self.db = db
        self.clock: Clock = CheckedClock(clock or SYSTEM_CLOCK)
        self.local_tz = local_tz
        self.profiles = Profiles(db, self.clock)
        self.wallets = Wallets(
            db,
            self.clock,
            transfer_limit=transfer_limit,
            daily_transfer_limit=daily_transfer_limit,
        )
        self.trips = Trips(db, self.clock, local_tz=local_tz)
        self.bookings = Bookings(db, self.clock)
        self.support = Support(db, self.clock)
        self.accounts = Accounts(db, self.clock)
        self.flags = Flags(db, self.clock)

    @classmethod
    async def connect(
        cls,
        url_or_path: str | Path,
        *,
        clock: Clock | None = None,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
    ) -> Domain:
        """Open a `postgresql://` URL (own pool) or a SQLite file path; not migrated."""
        db = await open_database(url_or_path)
        return cls(
            db,
            clock=clock,
            transfer_limit=transfer_limit,
            daily_transfer_limit=daily_transfer_limit,
        )

    @classmethod
    def from_pool(
        cls,
        pool: PoolType,
        *,
        clock: Clock | None = None,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
    ) -> Domain:
        """Use an open psycopg pool (autocommit, dict rows); `close()` leaves it open."""
        return cls(
            PostgresDatabase(pool, owns_pool=False),
            clock=clock,
            transfer_limit=transfer_limit,
            daily_transfer_limit=daily_transfer_limit,
        )

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def now(self) -> datetime:
        """The domain clock's current time, in UTC."""
        return self.clock.now()

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations; returns the versions applied (`[]` if none)."""
        return await migrations.upgrade(self.db, self.clock)

    async def schema_version(self) -> int:
        return await migrations.current_version(self.db)

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Domain:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def sqlite_path(settings: Settings) -> Path:
    """Where the embedded domain database lives for these settings."""
    return Path(settings.data_dir) / SQLITE_FILE_NAME


@asynccontextmanager
async def open_domain(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Domain]:
    """A migrated `Domain` for `settings`, closed when the block exits."""
    target: str | Path = settings.database_url or sqlite_path(settings)
    domain = await Domain.connect(
        target,
        clock=clock,
        transfer_limit=settings.transfer_limit,
        daily_transfer_limit=settings.daily_transfer_limit,
    )
    try:
        await domain.migrate()
        yield domain
    finally:
        await domain.close()
