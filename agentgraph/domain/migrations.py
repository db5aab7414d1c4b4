"""Versioned, forward-only schema migrations for both engines.

Migrations are the files in `migrations/` named `NNNN_name.sql` (one file both
engines run) or `NNNN_name.sqlite.sql` plus `NNNN_name.postgres.sql` (per-engine
variants of one version). `upgrade(db)` applies every version above the highest one
recorded in `schema_migrations`, all in one transaction, and returns the versions it
applied: an up-to-date database gets `[]` and is not changed. Concurrent upgrades are
safe: on Postgres they queue on a transaction-scoped advisory lock, on SQLite on the
database write lock taken by `BEGIN IMMEDIATE`; the loser then finds nothing to do.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from importlib import resources

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.domain.db import Database, Engine, Executor

# pg_advisory_xact_lock takes a bigint; any fixed value unique to this application works.
ADVISORY_LOCK_KEY = 0x6167_6772_6170_68  # "agraph" in ASCII

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$")

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version for one engine: its number, its name from the file name, its SQL."""

    version: int
    name: str
    sql: str


def load_migrations(engine: Engine) -> list[Migration]:
    """The migrations for `engine`, in version order; raises if the set is inconsistent."""
    found: dict[int, dict[str | None, tuple[str, str]]] = {}
    folder = resources.files("agentgraph.domain") / "migrations"
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version, name, variant = int(match[1]), match[2], match[3]
        variants = found.setdefault(version, {})
        if variant in variants:
            raise RuntimeError(f"migration {version:04d} has two files for {variant or 'both'}")
        variants[variant] = (name, entry.read_text(encoding="utf-8"))
    migrations = []
    for version in sorted(found):
        variants = found[version]
        if None in variants and len(variants) > 1:
            raise RuntimeError(f"migration {version:04d} mixes a shared file and variants")
        chosen = variants.get(engine) or variants.get(None)
        if chosen is None:
            raise RuntimeError(f"migration {version:04d} has no file for {engine}")
        migrations.append(Migration(version, chosen[0], chosen[1]))
    return migrations


def split_statements(script: str) -> list[str]:
    """Split a SQL script on semicolons outside quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in "'\"":
            end = script.find(ch, i + 1)
            end = n if end == -1 else end + 1
            current.append(script[i:end])
            i = end
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end == -1 else end
        elif ch == ";":
            statements.append("".join(current))
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


async def applied_versions(tx: Executor) -> list[int]:
    """Versions recorded in `schema_migrations` (empty for a brand-new database)."""
    await tx.execute(_BOOKKEEPING)
    rows = await tx.fetchall("SELECT version FROM schema_migrations ORDER BY version")
    return [int(row["version"]) for row in rows]


async def _locked_versions(tx: Executor) -> list[int]:
    if tx.engine == "postgres":
        # Serialises concurrent upgraders, including the CREATE TABLE IF NOT EXISTS in
        # applied_versions, which is not itself safe against a concurrent creator there.
        await tx.execute("SELECT pg_advisory_xact_lock(?)", [ADVISORY_LOCK_KEY])
    return await applied_versions(tx)


async def upgrade(db: Database, clock: Clock = SYSTEM_CLOCK) -> list[int]:
    """Apply pending migrations; returns the versions applied by this call."""
    # Reading the files is blocking I/O, so it runs in a worker thread.
    migrations = await asyncio.to_thread(load_migrations, db.engine)
    async with db.transaction() as tx:
        done = set(await _locked_versions(tx))
        latest = max(done, default=0)
        applied: list[int] = []
        for migration in migrations:
            if migration.version in done:
                continue
            if migration.version < latest:
                raise RuntimeError(
                    f"migration {migration.version:04d} is older than the applied "
                    f"version {latest:04d}; migrations only move forward"
                )
            for statement in split_statements(migration.sql):
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, clock.now().isoformat()],
            )
            applied.append(migration.version)
    return applied


async def current_version(db: Database) -> int:
    """The highest applied version, 0 for an empty database."""
    async with db.transaction() as tx:
        return max(await _locked_versions(tx), default=0)
