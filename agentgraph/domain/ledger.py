"""The double-entry ledger, as steps to run inside one caller-owned transaction.

Every money movement is one `transfers` row, unique per (tenant, idempotency key),
plus two `ledger_entries` rows whose amounts sum to zero, and the matching change to
both wallet balances. Callers lock the wallets first with `lock_wallets` (rows are
locked in phone order, so two movements between the same wallets cannot deadlock),
check the idempotency key with `find_transfer`, then `post_transfer`. A user wallet
can never go negative: callers check the locked balance, and the
`wallets_balance_nonnegative` CHECK constraint turns any mistake into
`InsufficientFunds` rather than an overdraft. The per-tenant system wallet
`TREASURY` is the other side of top-ups, booking payments and refunds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentgraph.domain.db import ConstraintViolation, Executor, Row
from agentgraph.domain.errors import InsufficientFunds
from agentgraph.domain.timestamps import as_datetime

TREASURY = "system:treasury"

TRANSFER_COLUMNS = (
    "t.id, t.tenant, t.idempotency_key, t.kind, t.source, t.target, t.amount, t.note, t.created_at"
)


@dataclass(frozen=True, slots=True)
class Posted:
    """What `post_transfer` did: the transfer id and both balances afterwards."""

    transfer_id: int
    source_balance: int
    target_balance: int
    created_at: datetime


async def ensure_treasury(tx: Executor, tenant: str, now: datetime) -> None:
    """Create the tenant's `TREASURY` wallet (balance 0) unless it exists, in `tx`."""
    await tx.execute(
        "INSERT INTO wallets (tenant, phone, kind, balance, created_at, updated_at) "
        "VALUES (?, ?, 'system', 0, ?, ?) ON CONFLICT (tenant, phone) DO NOTHING",
        [tenant, TREASURY, now, now],
    )


async def lock_wallets(tx: Executor, tenant: str, phones: list[str]) -> dict[str, Row]:
    """Lock the existing wallets among `phones` (Postgres row locks; SQLite already
    holds the write lock) and return them by phone with their current balances."""
    unique = sorted(set(phones))
    marks = ", ".join("?" for _ in unique)
    rows = await tx.fetchall(
        f"SELECT id, phone, kind, balance FROM wallets WHERE tenant = ? AND phone IN ({marks}) "
        "ORDER BY phone FOR UPDATE",
        [tenant, *unique],
    )
    return {row["phone"]: {**row, "balance": int(row["balance"])} for row in rows}


async def find_transfer(tx: Executor, tenant: str, key: str) -> Row | None:
    """The transfer recorded under `key`, with `source_balance` (the source wallet's
    balance right after it), or None."""
    return await tx.fetchone(
        f"SELECT {TRANSFER_COLUMNS}, e.balance_after AS source_balance "
        "FROM transfers t LEFT JOIN ledger_entries e "
        "ON e.transfer_id = t.id AND e.phone = t.source "
        "WHERE t.tenant = ? AND t.idempotency_key = ?",
        [tenant, key],
    )


async def post_transfer(
    tx: Executor,
    *,
    tenant: str,
    kind: str,
    key: str,
    wallets: dict[str, Row],
    source: str,
    target: str,
    amount: int,
    note: str | None,
    now: datetime,
) -> Posted | None:
    """Record and apply a movement of `amount` from `source` to `target`, whose rows
    `wallets` holds locked. Returns None, changing nothing, when another transaction
    has just recorded the same key (the caller then reads it with `find_transfer`)."""
    inserted = await tx.fetchone(
        "INSERT INTO transfers (tenant, idempotency_key, kind, source, target, amount, note, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING id",
        [tenant, key, kind, source, target, amount, note, now],
    )
    if inserted is None:
        return None
    transfer_id = int(inserted["id"])
    try:
        debited = await tx.fetchone(
            "UPDATE wallets SET balance = balance - ?, updated_at = ? "
            "WHERE tenant = ? AND phone = ? RETURNING balance",
            [amount, now, tenant, source],
        )
    except ConstraintViolation as exc:
        if "wallets_balance_nonnegative" in exc.detail:
            raise InsufficientFunds(wallets[source]["balance"], amount) from exc
        raise
    credited = await tx.fetchone(
        "UPDATE wallets SET balance = balance + ?, updated_at = ? "
        "WHERE tenant = ? AND phone = ? RETURNING balance",
        [amount, now, tenant, target],
    )
    assert debited is not None and credited is not None
    source_balance, target_balance = int(debited["balance"]), int(credited["balance"])
    for phone, signed, balance_after in (
        (source, -amount, source_balance),
        (target, amount, target_balance),
    ):
        await tx.execute(
            "INSERT INTO ledger_entries (tenant, transfer_id, wallet_id, phone, amount, "
            "balance_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [tenant, transfer_id, wallets[phone]["id"], phone, signed, balance_after, now],
        )
    return Posted(transfer_id, source_balance, target_balance, as_datetime(now))
