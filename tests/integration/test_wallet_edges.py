"""Wallet and ledger rules at their edges: exact limits, exact balances, replays and races.

SQLite only (the rules are the engine-independent Python around the SQL; both engines
run the broader tests in test_domain.py). Written so that a changed boundary, a
dropped check or a swapped operand fails a test (bench/mutation.py measures this).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from agentgraph.clock import ManualClock
from agentgraph.domain import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LimitExceeded,
    RecipientNotFound,
)
from agentgraph.domain import wallets as wallets_module
from agentgraph.domain.db import ConstraintViolation
from agentgraph.domain.ledger import TREASURY, find_transfer, lock_wallets, post_transfer
from agentgraph.domain.wallets import (
    MAX_AMOUNT,
    NOTE_MAX_LENGTH,
    Wallets,
    check_amount,
    check_key,
    clean_note,
)
from agentgraph.persistence import open_domain

START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
T = "easymo"
ALICE, BOB, CAROL = "+250788000001", "+250788000002", "+250788000003"


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
async def domain(sqlite_settings, clock):
    settings = sqlite_settings.model_copy(
        update={"transfer_limit": 10_000, "daily_transfer_limit": 15_000}
    )
    async with open_domain(settings, clock=clock) as opened:
        yield opened


async def fund(domain, phone, amount, key=None):
    await domain.profiles.get_or_create(T, phone)
    return await domain.wallets.credit(T, phone, amount, key or f"fund:{phone}:{amount}", None)


def test_amounts_are_positive_ints_up_to_the_maximum():
    assert check_amount(1) == 1
    assert check_amount(MAX_AMOUNT) == MAX_AMOUNT == 10**12
    for bad in (0, -1, MAX_AMOUNT + 1, True, 1.0, "5", None):
        with pytest.raises(InvalidAmount):
            check_amount(bad)


def test_notes_are_collapsed_cut_and_blank_means_none():
    assert clean_note(None) is None
    assert clean_note("  \n\t ") is None
    assert clean_note("  school \n fees  ") == "school fees"
    assert clean_note("x" * 500) == "x" * NOTE_MAX_LENGTH
    assert NOTE_MAX_LENGTH == 200


def test_keys_must_be_non_blank_strings():
    assert check_key(" k ") == " k "
    for bad in ("", "   ", None, 5):
        with pytest.raises(ValueError, match="idempotency key"):
            check_key(bad)


async def test_history_limit_is_clamped_between_one_and_a_hundred(domain, clock):
    await domain.profiles.get_or_create(T, ALICE)
    for n in range(101):
        clock.advance(seconds=1)
        await domain.wallets.credit(T, ALICE, 1, f"c{n}", None)
    assert len(await domain.wallets.history(T, ALICE, limit=0)) == 1
    assert len(await domain.wallets.history(T, ALICE, limit=-3)) == 1
    assert len(await domain.wallets.history(T, ALICE, limit=500)) == 100
    assert len(await domain.wallets.history(T, ALICE)) == 10
    newest = await domain.wallets.history(T, ALICE, limit=2)
    assert [(e.amount, e.balance_after, e.counterparty) for e in newest] == [
        (1, 101, None),
        (1, 100, None),
    ]


async def test_a_transfer_of_exactly_the_balance_and_the_limit_goes_through(domain):
    await fund(domain, ALICE, 10_000)
    await domain.profiles.get_or_create(T, BOB)
    done = await domain.wallets.transfer(T, ALICE, BOB, 10_000, "all")
    assert (done.sender_balance, done.amount, done.note) == (0, 10_000, None)
    assert await domain.wallets.balance(T, BOB) == 10_000
    with pytest.raises(InsufficientFunds) as info:
        await domain.wallets.transfer(T, ALICE, BOB, 1, "more")
    assert (info.value.balance, info.value.needed) == (0, 1)


async def test_one_over_the_per_transfer_limit_is_refused_with_the_limit(domain):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    with pytest.raises(LimitExceeded) as info:
        await domain.wallets.transfer(T, ALICE, BOB, 10_001, "big")
    assert (info.value.scope, info.value.limit, info.value.remaining) == (
        "per_transfer",
        10_000,
        10_000,
    )


async def test_the_daily_room_counts_only_todays_outgoing_transfers(domain, clock):
    await fund(domain, ALICE, 50_000)
    await fund(domain, BOB, 50_000)
    assert await domain.wallets.daily_room(T, ALICE) == 15_000
    await domain.wallets.transfer(T, ALICE, BOB, 5_000, "yesterday")
    clock.set(datetime(2025, 3, 11, 0, 0, tzinfo=UTC))
    await domain.wallets.transfer(T, ALICE, BOB, 6_000, "midnight")
    await domain.wallets.transfer(T, BOB, ALICE, 9_000, "incoming")
    assert await domain.wallets.daily_room(T, "0788000001") == 9_000
    clock.set(datetime(2025, 3, 11, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(LimitExceeded) as info:
        await domain.wallets.transfer(T, ALICE, BOB, 9_001, "over")
    assert (info.value.scope, info.value.limit, info.value.remaining) == ("daily", 15_000, 9_000)
    clock.set(datetime(2025, 3, 12, 0, 0, tzinfo=UTC))
    assert await domain.wallets.daily_room(T, ALICE) == 15_000


async def test_a_lowered_daily_limit_reports_no_room_rather_than_negative(domain, clock):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    await domain.wallets.transfer(T, ALICE, BOB, 10_000, "a")
    domain.wallets.daily_transfer_limit = 4_000
    assert await domain.wallets.daily_room(T, ALICE) == 0
    with pytest.raises(LimitExceeded) as info:
        await domain.wallets.transfer(T, ALICE, BOB, 1, "b")
    assert (info.value.scope, info.value.remaining) == ("daily", 0)


async def test_a_sender_without_a_wallet_has_nothing_to_send(domain):
    await domain.profiles.get_or_create(T, BOB)
    with pytest.raises(InsufficientFunds) as info:
        await domain.wallets.transfer(T, CAROL, BOB, 100, "k")
    assert (info.value.balance, info.value.needed) == (0, 100)


async def test_a_recipient_wallet_without_a_profile_is_not_found(domain):
    await fund(domain, ALICE, 1_000)
    await domain.db.execute(
        "INSERT INTO wallets (tenant, phone, kind, balance, created_at, updated_at) "
        "VALUES (?, ?, 'user', 0, ?, ?)",
        [T, CAROL, START, START],
    )
    with pytest.raises(RecipientNotFound):
        await domain.wallets.transfer(T, ALICE, CAROL, 100, "k")
    with pytest.raises(RecipientNotFound):
        await domain.wallets.credit(T, CAROL, 100, "c", None)


async def test_transfer_by_key_reads_only_transfers(domain):
    await fund(domain, ALICE, 20_000, key="top")
    await domain.profiles.get_or_create(T, BOB)
    sent = await domain.wallets.transfer(T, ALICE, BOB, 7_000, "pay", note="rent")
    found = await domain.wallets.transfer_by_key(T, "pay")
    assert found is not None
    assert (found.id, found.sender, found.recipient, found.amount) == (sent.id, ALICE, BOB, 7_000)
    assert (found.note, found.sender_balance, found.replayed) == ("rent", 13_000, True)
    assert found.created_at == START
    assert await domain.wallets.transfer_by_key(T, "top") is None
    assert await domain.wallets.transfer_by_key(T, "nothing") is None


async def test_a_replay_is_checked_field_by_field(domain):
    await fund(domain, ALICE, 20_000)
    await fund(domain, CAROL, 20_000)
    await domain.profiles.get_or_create(T, BOB)
    await domain.wallets.transfer(T, ALICE, BOB, 1_000, "k")
    for sender, recipient, amount in ((CAROL, BOB, 1_000), (ALICE, CAROL, 1_000), (ALICE, BOB, 2)):
        with pytest.raises(IdempotencyConflict):
            await domain.wallets.transfer(T, sender, recipient, amount, "k")
    with pytest.raises(IdempotencyConflict):
        await domain.wallets.transfer(T, ALICE, BOB, 1_000, "fund:+250788000001:20000")


async def test_a_replayed_credit_returns_the_current_balance_and_checks_the_request(domain):
    assert await fund(domain, ALICE, 5_000, key="top") == 5_000
    await domain.profiles.get_or_create(T, BOB)
    await domain.wallets.transfer(T, ALICE, BOB, 2_000, "t")
    assert await domain.wallets.credit(T, ALICE, 5_000, "top", None) == 3_000
    with pytest.raises(IdempotencyConflict):
        await domain.wallets.credit(T, BOB, 5_000, "top", None)
    with pytest.raises(IdempotencyConflict):
        await domain.wallets.credit(T, ALICE, 5_000, "t", None)


async def test_credits_racing_on_one_key_apply_once(domain, monkeypatch):
    """The twin committed between our key lookup and our insert: we replay its result."""
    await fund(domain, ALICE, 1_000, key="top")
    real = wallets_module.find_transfer
    calls = []

    async def missed_once(tx, tenant, key):
        calls.append(key)
        return None if len(calls) == 1 else await real(tx, tenant, key)

    monkeypatch.setattr(wallets_module, "find_transfer", missed_once)
    assert await domain.wallets.credit(T, ALICE, 1_000, "top", None) == 1_000
    assert calls == ["top", "top"]
    assert await domain.wallets.balance(T, ALICE) == 1_000


async def test_transfers_racing_on_one_key_move_money_once(domain, monkeypatch):
    await fund(domain, ALICE, 5_000)
    await domain.profiles.get_or_create(T, BOB)
    first = await domain.wallets.transfer(T, ALICE, BOB, 1_000, "k")
    real = wallets_module.find_transfer
    calls = []

    async def missed_once(tx, tenant, key):
        calls.append(key)
        return None if len(calls) == 1 else await real(tx, tenant, key)

    monkeypatch.setattr(wallets_module, "find_transfer", missed_once)
    again = await domain.wallets.transfer(T, ALICE, BOB, 1_000, "k")
    assert (again.id, again.replayed, again.sender_balance) == (first.id, True, 4_000)
    assert await domain.wallets.balance(T, ALICE) == 4_000


async def test_post_transfer_moves_both_sides_and_writes_balanced_entries(domain):
    await fund(domain, ALICE, 3_000)
    await domain.profiles.get_or_create(T, BOB)
    async with domain.db.transaction() as tx:
        wallets = await lock_wallets(tx, T, [BOB, ALICE, BOB])
        assert sorted(wallets) == [ALICE, BOB]
        assert (wallets[ALICE]["balance"], wallets[BOB]["balance"]) == (3_000, 0)
        posted = await post_transfer(
            tx,
            tenant=T,
            kind="transfer",
            key="direct",
            wallets=wallets,
            source=ALICE,
            target=BOB,
            amount=1_200,
            note="n",
            now=START + timedelta(minutes=5),
        )
        assert posted is not None
        assert (posted.source_balance, posted.target_balance) == (1_800, 1_200)
        assert posted.created_at == START + timedelta(minutes=5)
        again = await post_transfer(
            tx,
            tenant=T,
            kind="transfer",
            key="direct",
            wallets=wallets,
            source=ALICE,
            target=BOB,
            amount=1_200,
            note="n",
            now=START,
        )
        assert again is None
        found = await find_transfer(tx, T, "direct")
    assert found is not None
    assert (int(found["id"]), int(found["source_balance"])) == (posted.transfer_id, 1_800)
    entries = await domain.db.fetchall(
        "SELECT phone, amount, balance_after FROM ledger_entries WHERE transfer_id = ? "
        "ORDER BY amount",
        [posted.transfer_id],
    )
    assert [(e["phone"], int(e["amount"]), int(e["balance_after"])) for e in entries] == [
        (ALICE, -1_200, 1_800),
        (BOB, 1_200, 1_200),
    ]
    assert await domain.wallets.balance(T, ALICE) == 1_800


async def test_the_treasury_is_the_other_side_of_a_credit(domain):
    await fund(domain, ALICE, 2_500)
    treasury = await domain.db.fetchone(
        "SELECT kind, balance FROM wallets WHERE tenant = ? AND phone = ?", [T, TREASURY]
    )
    assert treasury is not None
    assert (treasury["kind"], int(treasury["balance"])) == ("system", -2_500)


async def test_an_overdraft_past_the_checks_is_refused_by_the_database(domain):
    """post_transfer trusts its caller's balance check; if that were wrong, the CHECK
    constraint refuses the debit and the caller sees InsufficientFunds, not a crash."""
    await fund(domain, ALICE, 1_000)
    await domain.profiles.get_or_create(T, BOB)
    with pytest.raises(InsufficientFunds) as info:
        async with domain.db.transaction() as tx:
            wallets = await lock_wallets(tx, T, [ALICE, BOB])
            await post_transfer(
                tx,
                tenant=T,
                kind="transfer",
                key="over",
                wallets=wallets,
                source=ALICE,
                target=BOB,
                amount=1_001,
                note=None,
                now=START,
            )
    assert (info.value.balance, info.value.needed) == (1_000, 1_001)
    assert isinstance(info.value.__cause__, ConstraintViolation)
    assert await domain.wallets.balance(T, ALICE) == 1_000
    assert await domain.wallets.transfer_by_key(T, "over") is None


async def test_posted_records_are_frozen(domain):
    await fund(domain, ALICE, 1_000)
    await domain.profiles.get_or_create(T, BOB)
    async with domain.db.transaction() as tx:
        wallets = await lock_wallets(tx, T, [ALICE, BOB])
        posted = await post_transfer(
            tx,
            tenant=T,
            kind="transfer",
            key="k",
            wallets=wallets,
            source=ALICE,
            target=BOB,
            amount=10,
            note=None,
            now=START,
        )
    assert posted is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        posted.source_balance = 0  # type: ignore[misc]


async def test_post_transfer_takes_its_sides_by_name_only(domain):
    """Source and target are keyword-only, so a call cannot swap them by position."""
    await fund(domain, ALICE, 1_000)
    await domain.profiles.get_or_create(T, BOB)
    async with domain.db.transaction() as tx:
        wallets = await lock_wallets(tx, T, [ALICE, BOB])
        with pytest.raises(TypeError):
            await post_transfer(tx, T, "transfer", "k", wallets, BOB, ALICE, 10, None, START)  # type: ignore[misc]
    assert await domain.wallets.balance(T, ALICE) == 1_000


async def test_default_limits_are_half_a_million_each(domain, clock):
    wallets = Wallets(domain.db, clock)
    assert (wallets.transfer_limit, wallets.daily_transfer_limit) == (500_000, 500_000)
    await fund(domain, ALICE, 2_000_000)
    await domain.profiles.get_or_create(T, BOB)
    with pytest.raises(LimitExceeded) as info:
        await wallets.transfer(T, ALICE, BOB, 500_001, "big")
    assert (info.value.scope, info.value.limit) == ("per_transfer", 500_000)
    await wallets.transfer(T, ALICE, BOB, 500_000, "max")
    assert await wallets.daily_room(T, ALICE) == 0
    with pytest.raises(TypeError):
        Wallets(domain.db, clock, 1, 2)  # type: ignore[misc]


async def test_a_transfer_dated_tomorrow_does_not_count_today(domain, clock):
    await fund(domain, ALICE, 50_000)
    await domain.profiles.get_or_create(T, BOB)
    clock.set(START + timedelta(days=1))
    await domain.wallets.transfer(T, ALICE, BOB, 4_000, "tomorrow")
    # Another process whose clock is still today sees none of it.
    today = Wallets(domain.db, ManualClock(START), daily_transfer_limit=15_000)
    assert await today.daily_room(T, ALICE) == 15_000
    assert await domain.wallets.daily_room(T, ALICE) == 11_000
