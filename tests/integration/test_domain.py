"""Domain layer on both engines: migrations, profiles, wallets, transfers and races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from blockbuster import blockbuster_ctx
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from agentgraph.clock import ManualClock
from agentgraph.domain import (
    BookingNotFound,
    Domain,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidLanguage,
    InvalidPhone,
    LimitExceeded,
    ProfileNotFound,
    RecipientNotFound,
    SelfTransfer,
    TicketNotFound,
    Transfer,
    TripNotFound,
    seed_demo,
)
from agentgraph.domain import wallets as wallets_module
from agentgraph.domain.db import ConstraintViolation
from agentgraph.domain.migrations import load_migrations
from agentgraph.persistence import domain_sqlite_path, open_domain

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
T = "easymo"
ALICE, BOB, CAROL = "+250788000001", "+250788000002", "+250788000003"


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
async def domain(any_settings, clock):
    async with open_domain(any_settings, clock=clock) as opened:
        yield opened


async def fund(domain, phone, amount, key=None):
    await domain.profiles.get_or_create(T, phone)
    return await domain.wallets.credit(T, phone, amount, key or f"fund:{phone}:{amount}", "test")


async def assert_ledger_consistent(domain, tenant=T):
    """Every transfer has two entries summing to zero and every balance equals its entries."""
    bad = await domain.db.fetchall(
        "SELECT transfer_id FROM ledger_entries WHERE tenant = ? GROUP BY transfer_id "
        "HAVING SUM(amount) <> 0 OR COUNT(*) <> 2",
        [tenant],
    )
    assert bad == []
    wallets = await domain.db.fetchall(
        "SELECT w.phone, w.kind, w.balance, "
        "(SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e WHERE e.wallet_id = w.id) "
        "AS summed FROM wallets w WHERE w.tenant = ?",
        [tenant],
    )
    for wallet in wallets:
        assert int(wallet["balance"]) == int(wallet["summed"]), wallet
        if wallet["kind"] == "user":
            assert int(wallet["balance"]) >= 0
    assert sum(int(w["balance"]) for w in wallets) == 0


async def test_migrations_are_recorded_and_idempotent(any_settings):
    async with open_domain(any_settings, migrate=False) as domain:
        versions = [m.version for m in load_migrations(domain.engine)]
        latest = versions[-1]
        assert await domain.schema_version() == 0
        assert await domain.migrate() == versions
        assert await domain.migrate() == []
        assert await domain.schema_version() == latest
        rows = await domain.db.fetchall("SELECT version, name FROM schema_migrations")
        assert (int(rows[0]["version"]), rows[0]["name"]) == (1, "init")
        assert len(rows) == len(versions)


async def test_concurrent_upgrades_apply_each_migration_once(any_settings):
    async with (
        open_domain(any_settings, migrate=False) as first,
        open_domain(any_settings, migrate=False) as second,
    ):
        results = await asyncio.gather(first.migrate(), second.migrate())
        versions = [m.version for m in load_migrations(first.engine)]
        assert sorted(results, key=len) == [[], versions]
        count = await first.db.fetchval("SELECT COUNT(*) FROM schema_migrations")
        assert int(count) == len(versions)


async def test_open_domain_uses_the_configured_engine_and_transactions_roll_back(any_settings):
    async with open_domain(any_settings) as domain:
        assert domain.engine == ("postgres" if any_settings.database_url else "sqlite")
        if domain.engine == "sqlite":
            assert domain_sqlite_path(any_settings).exists()
            assert await domain.db.fetchval("PRAGMA journal_mode") == "wal"
        insert = "INSERT INTO tenants (slug, name, created_at) VALUES (?, ?, ?)"
        with pytest.raises(RuntimeError, match="boom"):
            async with domain.db.transaction() as tx:
                await tx.execute(insert, ["gone", "Gone", START])
                raise RuntimeError("boom")
        async with domain.db.transaction() as tx:
            await tx.execute(insert, ["kept", "Kept", START])
        rows = await domain.db.fetchall("SELECT slug, created_at FROM tenants")
        assert [r["slug"] for r in rows] == ["kept"]


async def test_from_pool_uses_the_process_pool_without_closing_it(pg_settings):
    pool = AsyncConnectionPool(
        pg_settings.database_url,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
    )
    await pool.open(wait=True)
    try:
        domain = Domain.from_pool(pool, clock=ManualClock(START))
        assert await domain.migrate() != []
        assert (await domain.profiles.get_or_create(T, ALICE)).created_at == START
        await domain.close()
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT COUNT(*) AS n FROM profiles")
            assert (await cursor.fetchone())["n"] == 1
    finally:
        await pool.close()


async def test_domain_never_blocks_the_event_loop(any_settings, tmp_path):
    """`langgraph dev` and the server refuse blocking I/O on the loop (blockbuster)."""
    settings = any_settings.model_copy(update={"data_dir": tmp_path / "fresh" / "dir"})
    with blockbuster_ctx(["agentgraph.domain"]):
        async with open_domain(settings) as domain:
            await seed_demo(domain)
            await domain.wallets.transfer(T, ALICE, BOB, 1_000, "bb")
            trip = (await domain.trips.search(T, "Kigali", "Huye"))[0]
            booking = await domain.bookings.create(T, ALICE, trip.id, 1, "bb")
            await domain.bookings.cancel(T, ALICE, booking.id, "bb")
            assert await domain.support.search_articles(T, "refund")


async def test_get_or_create_makes_profile_and_empty_wallet(domain):
    profile = await domain.profiles.get_or_create(T, "0788000001", name="Aline")
    assert (profile.phone, profile.name, profile.language, profile.opted_out) == (
        ALICE,
        "Aline",
        "en",
        False,
    )
    assert profile.created_at == START
    assert await domain.wallets.balance(T, ALICE) == 0
    again = await domain.profiles.get_or_create(T, "+250 788 000 001", name="Someone Else")
    assert again.id == profile.id and again.name == "Aline"
    other_tenant = await domain.profiles.get_or_create("acme", ALICE)
    assert other_tenant.id != profile.id and other_tenant.name is None
    # A missing name is filled in; an existing one is kept.
    filled = await domain.profiles.get_or_create("acme", ALICE, name="  Aline   Uwase ")
    assert filled.name == "Aline Uwase"


async def test_profile_update_validates_language(domain):
    with pytest.raises(ProfileNotFound):
        await domain.profiles.get(T, BOB)
    updated = await domain.profiles.update(T, BOB, language="French", name="Jean", opted_out=True)
    assert (updated.language, updated.name, updated.opted_out) == ("fr", "Jean", True)
    assert (await domain.profiles.get(T, BOB)).language == "fr"
    with pytest.raises(InvalidLanguage):
        await domain.profiles.update(T, BOB, language="kinyarwanda")
    assert (await domain.profiles.update(T, BOB, language="EN")).language == "en"
    with pytest.raises(InvalidPhone):
        await domain.profiles.get_or_create(T, "not a phone")


async def test_balance_and_history_newest_first(domain, clock):
    assert await domain.wallets.balance(T, ALICE) == 0
    assert await fund(domain, ALICE, 50_000) == 50_000
    await domain.profiles.get_or_create(T, BOB)
    clock.advance(minutes=1)
    await domain.wallets.transfer(T, ALICE, BOB, 2_000, "t1", note="lunch")
    clock.advance(minutes=1)
    await domain.wallets.transfer(T, ALICE, BOB, 3_000, "t2")
    assert await domain.wallets.balance(T, "0788000001") == 45_000
    history = await domain.wallets.history(T, ALICE)
    assert [(e.kind, e.amount, e.balance_after) for e in history] == [
        ("transfer", -3_000, 45_000),
        ("transfer", -2_000, 48_000),
        ("credit", 50_000, 50_000),
    ]
    assert history[1].counterparty == BOB and history[1].note == "lunch"
    assert history[2].counterparty is None
    assert len(await domain.wallets.history(T, ALICE, limit=2)) == 2
    bob_history = await domain.wallets.history(T, BOB)
    assert [(e.amount, e.counterparty) for e in bob_history] == [(3_000, ALICE), (2_000, ALICE)]
    await assert_ledger_consistent(domain)


async def test_transfer_moves_money_and_reports_new_balance(domain):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    result = await domain.wallets.transfer(T, "0788000001", "250788000002", 12_500, "k1")
    assert isinstance(result, Transfer)
    assert (result.sender, result.recipient, result.amount) == (ALICE, BOB, 12_500)
    assert (result.sender_balance, result.replayed, result.created_at) == (37_500, False, START)
    assert await domain.wallets.balance(T, BOB) == 12_500
    await assert_ledger_consistent(domain)


async def test_transfer_failures_move_nothing(domain):
    await fund(domain, ALICE, 10_000)
    await domain.profiles.get_or_create(T, BOB)
    cases = [
        (dict(recipient=BOB, amount=0), InvalidAmount),
        (dict(recipient=BOB, amount=-5), InvalidAmount),
        (dict(recipient=BOB, amount=10.5), InvalidAmount),
        (dict(recipient=BOB, amount=10_001), InsufficientFunds),
        (dict(recipient=CAROL, amount=100), RecipientNotFound),
        (dict(recipient="0788000001", amount=100), SelfTransfer),
        (dict(recipient="12", amount=100), InvalidPhone),
        (dict(recipient=BOB, amount=500_001), LimitExceeded),
    ]
    for index, (kwargs, error) in enumerate(cases):
        with pytest.raises(error) as info:
            await domain.wallets.transfer(
                T, ALICE, kwargs["recipient"], kwargs["amount"], f"fail-{index}"
            )
        assert info.value.user_message
    assert await domain.wallets.balance(T, ALICE) == 10_000
    assert await domain.wallets.balance(T, BOB) == 0
    # CAROL was not auto-created as a recipient.
    with pytest.raises(ProfileNotFound):
        await domain.profiles.get(T, CAROL)
    count = await domain.db.fetchval("SELECT COUNT(*) FROM transfers WHERE kind = 'transfer'")
    assert int(count) == 0
    with pytest.raises(InsufficientFunds) as info:
        await domain.wallets.transfer(T, ALICE, BOB, 30_000, "k")
    assert (info.value.balance, info.value.needed) == (10_000, 30_000)
    assert "10,000 RWF" in info.value.user_message and "30,000 RWF" in info.value.user_message


async def test_same_key_replays_without_moving_money(domain):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    first = await domain.wallets.transfer(T, ALICE, BOB, 30_000, "pay-1", note="rent")
    # The replay succeeds although a second 30,000 would now overdraw the wallet.
    second = await domain.wallets.transfer(T, ALICE, BOB, 30_000, "pay-1", note="rent")
    assert second.replayed and not first.replayed
    assert (second.id, second.amount, second.sender_balance) == (first.id, 30_000, 20_000)
    assert await domain.wallets.balance(T, ALICE) == 20_000
    with pytest.raises(IdempotencyConflict):
        await domain.wallets.transfer(T, ALICE, BOB, 1_000, "pay-1")
    assert await domain.wallets.balance(T, BOB) == 30_000
    await assert_ledger_consistent(domain)


async def test_credit_is_idempotent_and_needs_a_profile(domain):
    with pytest.raises(RecipientNotFound):
        await domain.wallets.credit(T, ALICE, 1_000, "top-1", "top-up")
    await domain.profiles.get_or_create(T, ALICE)
    assert await domain.wallets.credit(T, ALICE, 1_000, "top-1", "top-up") == 1_000
    assert await domain.wallets.credit(T, ALICE, 1_000, "top-1", "top-up") == 1_000
    with pytest.raises(IdempotencyConflict):
        await domain.wallets.credit(T, ALICE, 2_000, "top-1", "top-up")
    with pytest.raises(InvalidAmount):
        await domain.wallets.credit(T, ALICE, 0, "top-2", None)
    await assert_ledger_consistent(domain)


async def test_per_transfer_and_daily_limits(any_settings, clock):
    settings = any_settings.model_copy(
        update={"transfer_limit": 10_000, "daily_transfer_limit": 15_000}
    )
    async with open_domain(settings, clock=clock) as domain:
        await fund(domain, ALICE, 100_000)
        await domain.profiles.get_or_create(T, BOB)
        with pytest.raises(LimitExceeded) as info:
            await domain.wallets.transfer(T, ALICE, BOB, 10_001, "big")
        assert info.value.scope == "per_transfer" and "10,000 RWF" in info.value.user_message
        await domain.wallets.transfer(T, ALICE, BOB, 10_000, "d1")
        await domain.wallets.transfer(T, ALICE, BOB, 4_000, "d2")
        with pytest.raises(LimitExceeded) as info:
            await domain.wallets.transfer(T, ALICE, BOB, 2_000, "d3")
        assert (info.value.scope, info.value.remaining) == ("daily", 1_000)
        await domain.wallets.transfer(T, ALICE, BOB, 1_000, "d4")
        # Incoming money and credits do not count against Bob's own daily limit.
        await domain.wallets.transfer(T, BOB, ALICE, 10_000, "b1")
        clock.set(datetime(2025, 3, 10, 23, 59, tzinfo=UTC))
        with pytest.raises(LimitExceeded):
            await domain.wallets.transfer(T, ALICE, BOB, 1, "d5")
        clock.set(datetime(2025, 3, 11, 0, 0, tzinfo=UTC))
        result = await domain.wallets.transfer(T, ALICE, BOB, 10_000, "d6")
        assert result.sender_balance == 100_000 - 25_000 + 10_000


async def test_concurrent_overdraw_race_lets_exactly_one_through(any_settings, domain):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    await domain.profiles.get_or_create(T, CAROL)
    async with open_domain(any_settings, clock=ManualClock(START)) as second:
        attempts = [
            (domain if i % 2 == 0 else second).wallets.transfer(
                T, ALICE, BOB if i % 2 == 0 else CAROL, 30_000, f"race-{i}"
            )
            for i in range(6)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
    succeeded = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(succeeded) == 1 and len(refused) == 5, results
    # Refused by the balance check under the row lock, not by the constraint.
    assert all(r.__cause__ is None for r in refused)
    assert await domain.wallets.balance(T, ALICE) == 20_000
    assert await domain.wallets.balance(T, BOB) + await domain.wallets.balance(T, CAROL) == 30_000
    await assert_ledger_consistent(domain)


async def test_balance_constraint_is_the_last_line_of_defence(any_settings, domain, monkeypatch):
    """Even if the row lock were missing, the CHECK constraint refuses the overdraft."""
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)

    async def read_without_locking(tx, tenant, phones):
        rows = await tx.fetchall(
            "SELECT id, phone, kind, balance FROM wallets WHERE tenant = ? AND phone IN (?, ?)",
            [tenant, *phones],
        )
        await asyncio.sleep(0.05)  # let the other transfer read the same balance
        return {row["phone"]: {**row, "balance": int(row["balance"])} for row in rows}

    monkeypatch.setattr(wallets_module, "lock_wallets", read_without_locking)
    async with open_domain(any_settings, clock=ManualClock(START)) as second:
        results = await asyncio.gather(
            domain.wallets.transfer(T, ALICE, BOB, 30_000, "x1"),
            second.wallets.transfer(T, ALICE, BOB, 30_000, "x2"),
            return_exceptions=True,
        )
    assert sorted(type(r).__name__ for r in results) == ["InsufficientFunds", "Transfer"]
    if domain.engine == "postgres":
        # Both passed the balance check; the database refused the second debit.
        failure = next(r for r in results if isinstance(r, InsufficientFunds))
        assert isinstance(failure.__cause__, ConstraintViolation)
    assert await domain.wallets.balance(T, ALICE) == 20_000
    await assert_ledger_consistent(domain)


async def test_out_of_range_numbers_are_refused_politely(domain):
    await fund(domain, ALICE, 1_000)
    with pytest.raises(InvalidAmount):
        await domain.wallets.credit(T, ALICE, 10**30, "huge", None)
    with pytest.raises(TripNotFound):
        await domain.trips.get(T, 10**30)
    with pytest.raises(BookingNotFound):
        await domain.bookings.cancel(T, ALICE, 10**30, "c")
    with pytest.raises(TicketNotFound):
        await domain.support.get_ticket(T, ALICE, -1)


async def test_concurrent_retries_with_one_key_move_money_once(any_settings, domain):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    async with open_domain(any_settings, clock=ManualClock(START)) as second:
        results = await asyncio.gather(
            domain.wallets.transfer(T, ALICE, BOB, 30_000, "same"),
            second.wallets.transfer(T, ALICE, BOB, 30_000, "same"),
            domain.wallets.transfer(T, ALICE, BOB, 30_000, "same"),
        )
    assert sorted(r.replayed for r in results) == [False, True, True]
    assert len({r.id for r in results}) == 1
    assert await domain.wallets.balance(T, ALICE) == 20_000
    await assert_ledger_consistent(domain)
