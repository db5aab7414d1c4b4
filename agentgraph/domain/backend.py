"""The `Domain` object: one database handle and every repository built on it.

The domain never opens a Postgres pool: `Domain.from_pool` wraps the process's pool
(opened by `agentgraph.persistence`, the one place that opens pools) without taking
ownership of it, and `Domain.sqlite(path)` opens the embedded SQLite file. Neither
migrates (call `await domain.migrate()`); `agentgraph.persistence.open_domain(settings)`
does both for a configuration. Money limits and the clock are constructor arguments,
not settings reads, so tests and tenants can set them; every stored time is UTC.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from types import TracebackType

from agentgraph.clock import KIGALI, SYSTEM_CLOCK, Clock
from agentgraph.domain import migrations
from agentgraph.domain.accounts import Accounts
from agentgraph.domain.agent_records import RegistryRules
from agentgraph.domain.agent_view import AgentView, ChangeSignal
from agentgraph.domain.agents import AgentRegistry
from agentgraph.domain.api_keys import ApiKeys
from agentgraph.domain.app_keys import AppKeys
from agentgraph.domain.bookings import Bookings
from agentgraph.domain.db import Database, Engine, PoolType, PostgresDatabase, SqliteDatabase
from agentgraph.domain.flags import Flags
from agentgraph.domain.human_inbox import HumanInbox
from agentgraph.domain.inbox_feed import InboxFeed
from agentgraph.domain.inbox_templates import InboxTemplates
from agentgraph.domain.operators import Operators
from agentgraph.domain.profiles import Profiles
from agentgraph.domain.pseudonyms import Pseudonyms
from agentgraph.domain.support import Support
from agentgraph.domain.tenants import TenantNames, Tenants
from agentgraph.domain.timestamps import CheckedClock
from agentgraph.domain.trips import Trips
from agentgraph.domain.wallets import (
    DEFAULT_DAILY_TRANSFER_LIMIT,
    DEFAULT_TRANSFER_LIMIT,
    Wallets,
)


class Domain:
    """The business backend. Repositories are attributes (`tenants`, `profiles`,
    `wallets`, `trips`, `bookings`, `support`, `accounts`, `flags`, `pseudonyms`,
    `agents`, `operators`, `api_keys`, `app_keys`, `human_inbox`, `inbox_feed`,
    `inbox_templates`);
    every method takes the tenant slug first (the operator repositories take a `scope`).
    `pseudonym_key` is AGENTGRAPH_PSEUDONYM_KEY's bytes (None: the key kept in the database).
    `registry_rules` (tool names, allowed models) lets `agents` accept writes;
    `agent_view` is the assistant's cached view of it."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
        local_tz: tzinfo = KIGALI,
        pseudonym_key: bytes | None = None,
        registry_rules: RegistryRules | None = None,
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
        self.tenants = Tenants(db, self.clock)
        self.tenant_names = TenantNames(self.tenants)
        self.agents = AgentRegistry(db, self.clock, registry_rules)
        self.agent_signal = ChangeSignal()
        self.agents.listeners.append(self.agent_signal)
        self.agent_view = AgentView(self.agents, self.agent_signal)
        self.operators = Operators(db, self.clock)
        self.api_keys = ApiKeys(db, self.clock)
        self.app_keys = AppKeys(db, self.clock)
        self.pseudonyms = Pseudonyms(db, self.clock, self.app_keys, pseudonym_key)
        self.inbox_feed = InboxFeed()
        self.human_inbox = HumanInbox(db, self.clock, self.inbox_feed)
        self.inbox_templates = InboxTemplates(db, self.clock)

    @classmethod
    async def sqlite(
        cls,
        path: str | Path,
        *,
        clock: Clock | None = None,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
        pseudonym_key: bytes | None = None,
        registry_rules: RegistryRules | None = None,
    ) -> Domain:
        """Open the SQLite file `path` (or `:memory:`); not migrated."""
        db = await SqliteDatabase.open(path)
        return cls(
            db,
            clock=clock,
            transfer_limit=transfer_limit,
            daily_transfer_limit=daily_transfer_limit,
            pseudonym_key=pseudonym_key,
            registry_rules=registry_rules,
        )

    @classmethod
    def from_pool(
        cls,
        pool: PoolType,
        *,
        clock: Clock | None = None,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
        pseudonym_key: bytes | None = None,
        registry_rules: RegistryRules | None = None,
    ) -> Domain:
        """Use an open psycopg pool (autocommit, dict rows); `close()` leaves it open."""
        return cls(
            PostgresDatabase(pool, owns_pool=False),
            clock=clock,
            transfer_limit=transfer_limit,
            daily_transfer_limit=daily_transfer_limit,
            pseudonym_key=pseudonym_key,
            registry_rules=registry_rules,
        )

    @property
    def engine(self) -> Engine:
        """`sqlite` or `postgres`: the engine behind `db`."""
        return self.db.engine

    def now(self) -> datetime:
        """The domain clock's current time, in UTC."""
        return self.clock.now()

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations; returns the versions applied (`[]` if none)."""
        return await migrations.upgrade(self.db, self.clock)

    async def schema_version(self) -> int:
        """The highest applied migration, 0 for an empty database. It takes the lock `migrate`
        takes, so it waits for an upgrade in progress, and creates the (empty) bookkeeping
        table if it is missing."""
        return await migrations.current_version(self.db)

    async def close(self) -> None:
        """Close the database; a pool given to `from_pool` stays open for its owner."""
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
