"""Wallet balances, history, peer transfers and top-ups, in integer RWF.

`transfer` moves money between two profiles' wallets atomically: it refuses
non-positive or non-integer amounts (`InvalidAmount`), sending to oneself
(`SelfTransfer`), recipients without a profile (`RecipientNotFound`; recipients are
never auto-created), amounts over the per-transfer limit or the sender's UTC-day
total over the daily limit (`LimitExceeded`), and overdrafts (`InsufficientFunds`),
including when two transfers race. The idempotency key makes retries safe: a key
already used for the same request returns the original `Transfer` with
`replayed=True` and moves nothing; used for a different request it raises
`IdempotencyConflict`. Replays are recognised before any check that depends on the
current state, so a retry never fails just because the first attempt succeeded.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from agentgraph.clock import Clock
from agentgraph.domain.db import Database, Executor, Row
from agentgraph.domain.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LimitExceeded,
    RecipientNotFound,
    SelfTransfer,
)
from agentgraph.domain.ledger import (
    TREASURY,
    ensure_treasury,
    find_transfer,
    lock_wallets,
    post_transfer,
)
from agentgraph.domain.models import LedgerEntry, Transfer
from agentgraph.domain.phones import normalize_phone
from agentgraph.domain.profiles import profile_exists
from agentgraph.domain.timestamps import as_datetime

DEFAULT_TRANSFER_LIMIT = 500_000
DEFAULT_DAILY_TRANSFER_LIMIT = 500_000
HISTORY_MAX = 100
NOTE_MAX_LENGTH = 200
# Far above any real wallet; keeps amounts inside a 64-bit column on both engines.
MAX_AMOUNT = 10**12


def check_amount(amount: object) -> int:
    """`amount` if it is a positive int up to MAX_AMOUNT (bools and floats are refused)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount(amount)
    return amount


def clean_note(note: str | None) -> str | None:
    """The note with whitespace collapsed and cut to `NOTE_MAX_LENGTH` characters; None for a
    missing or blank note."""
    if note is None:
        return None
    cleaned = " ".join(str(note).split())[:NOTE_MAX_LENGTH]
    return cleaned or None


def check_key(key: str) -> str:
    """`key` unchanged if it is a non-blank string; ValueError otherwise (a programming
    mistake, not a domain error)."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError("an idempotency key must be a non-empty string")
    return key


def _transfer_from_row(row: Row, replayed: bool) -> Transfer:
    return Transfer(
        id=int(row["id"]),
        tenant=row["tenant"],
        idempotency_key=row["idempotency_key"],
        sender=row["source"],
        recipient=row["target"],
        amount=int(row["amount"]),
        note=row["note"],
        sender_balance=int(row["source_balance"]),
        created_at=as_datetime(row["created_at"]),
        replayed=replayed,
    )


class Wallets:
    """`domain.wallets`: balances, history, transfers and credits."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        transfer_limit: int = DEFAULT_TRANSFER_LIMIT,
        daily_transfer_limit: int = DEFAULT_DAILY_TRANSFER_LIMIT,
    ) -> None:
        self._db = db
        self._clock = clock
        self.transfer_limit = transfer_limit
        self.daily_transfer_limit = daily_transfer_limit

    async def balance(self, tenant: str, phone: str) -> int:
        """The wallet balance; 0 for a phone that has no wallet yet."""
        phone = normalize_phone(phone)
        value = await self._db.fetchval(
            "SELECT balance FROM wallets WHERE tenant = ? AND phone = ?", [tenant, phone]
        )
        return 0 if value is None else int(value)

    async def history(self, tenant: str, phone: str, limit: int = 10) -> list[LedgerEntry]:
        """The wallet's latest `limit` entries (at most 100), newest first."""
        phone = normalize_phone(phone)
        limit = max(1, min(int(limit), HISTORY_MAX))
        rows = await self._db.fetchall(
            "SELECT e.id, e.tenant, e.phone, e.transfer_id, e.amount, e.balance_after, "
            "e.created_at, t.kind, t.note, "
            "CASE WHEN e.amount < 0 THEN t.target ELSE t.source END AS counterparty "
            "FROM ledger_entries e JOIN transfers t ON t.id = e.transfer_id "
            "WHERE e.tenant = ? AND e.phone = ? ORDER BY e.created_at DESC, e.id DESC LIMIT ?",
            [tenant, phone, limit],
        )
        return [
            LedgerEntry(
                id=int(row["id"]),
                tenant=row["tenant"],
                phone=row["phone"],
                transfer_id=int(row["transfer_id"]),
                kind=row["kind"],
                amount=int(row["amount"]),
                balance_after=int(row["balance_after"]),
                counterparty=None if row["counterparty"] == TREASURY else row["counterparty"],
                note=row["note"],
                created_at=as_datetime(row["created_at"]),
            )
            for row in rows
        ]

    async def transfer(
        self,
        tenant: str,
        sender: str,
        recipient: str,
        amount: int,
        idempotency_key: str,
        note: str | None = None,
    ) -> Transfer:
        """Send `amount` RWF from `sender` to `recipient`; see the module docstring."""
        sender = normalize_phone(sender)
        recipient = normalize_phone(recipient)
        amount = check_amount(amount)
        key = check_key(idempotency_key)
        note = clean_note(note)
        if sender == recipient:
            raise SelfTransfer()
        if amount > self.transfer_limit:
            raise LimitExceeded("per_transfer", self.transfer_limit, self.transfer_limit)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            wallets = await lock_wallets(tx, tenant, [sender, recipient])
            # Checked after the lock: a concurrent twin with the same key has committed
            # by now, so its result is replayed instead of re-judged against new balances.
            replay = await self._replay(tx, tenant, key, sender, recipient, amount)
            if replay is not None:
                return replay
            if recipient not in wallets or not await profile_exists(tx, tenant, recipient):
                raise RecipientNotFound(recipient)
            sent_today = await self._sent_today(tx, tenant, sender, now)
            if sent_today + amount > self.daily_transfer_limit:
                remaining = max(0, self.daily_transfer_limit - sent_today)
                raise LimitExceeded("daily", self.daily_transfer_limit, remaining)
            balance = wallets[sender]["balance"] if sender in wallets else 0
            if balance < amount:
                raise InsufficientFunds(balance, amount)
            posted = await post_transfer(
                tx,
                tenant=tenant,
                kind="transfer",
                key=key,
                wallets=wallets,
                source=sender,
                target=recipient,
                amount=amount,
                note=note,
                now=now,
            )
            if posted is None:
                replay = await self._replay(tx, tenant, key, sender, recipient, amount)
                assert replay is not None
                return replay
        return Transfer(
            id=posted.transfer_id,
            tenant=tenant,
            idempotency_key=key,
            sender=sender,
            recipient=recipient,
            amount=amount,
            note=note,
            sender_balance=posted.source_balance,
            created_at=posted.created_at,
        )

    async def transfer_by_key(self, tenant: str, idempotency_key: str) -> Transfer | None:
        """The transfer recorded under `idempotency_key` (`replayed=True`), or None.

        What a re-run of the request that made it reads, to answer it again instead
        of judging it anew against balances it already changed."""
        row = await find_transfer(self._db, tenant, idempotency_key)
        if row is None or row["kind"] != "transfer":
            return None
        return _transfer_from_row(row, replayed=True)

    async def credit(
        self, tenant: str, phone: str, amount: int, idempotency_key: str, note: str | None
    ) -> int:
        """Top up `phone`'s wallet from the treasury; returns the new balance. A replayed
        key credits nothing and returns the current balance. The phone needs a
        profile (`RecipientNotFound` otherwise)."""
        phone = normalize_phone(phone)
        amount = check_amount(amount)
        key = check_key(idempotency_key)
        note = clean_note(note)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await ensure_treasury(tx, tenant, now)
            wallets = await lock_wallets(tx, tenant, [TREASURY, phone])
            existing = await find_transfer(tx, tenant, key)
            if existing is None:
                if phone not in wallets or not await profile_exists(tx, tenant, phone):
                    raise RecipientNotFound(phone)
                posted = await post_transfer(
                    tx,
                    tenant=tenant,
                    kind="credit",
                    key=key,
                    wallets=wallets,
                    source=TREASURY,
                    target=phone,
                    amount=amount,
                    note=note,
                    now=now,
                )
                if posted is not None:
                    return posted.target_balance
                existing = await find_transfer(tx, tenant, key)
            assert existing is not None
            if (existing["kind"], existing["target"], int(existing["amount"])) != (
                "credit",
                phone,
                amount,
            ):
                raise IdempotencyConflict(key)
            return int(wallets[phone]["balance"])

    async def _replay(
        self, tx: Executor, tenant: str, key: str, sender: str, recipient: str, amount: int
    ) -> Transfer | None:
        row = await find_transfer(tx, tenant, key)
        if row is None:
            return None
        if (row["kind"], row["source"], row["target"], int(row["amount"])) != (
            "transfer",
            sender,
            recipient,
            amount,
        ):
            raise IdempotencyConflict(key)
        return _transfer_from_row(row, replayed=True)

    async def daily_room(self, tenant: str, sender: str) -> int:
        """How much more `sender` may send today (UTC) before the daily limit."""
        sent = await self._sent_today(self._db, tenant, normalize_phone(sender), self._clock.now())
        return max(0, self.daily_transfer_limit - sent)

    async def _sent_today(self, tx: Executor, tenant: str, sender: str, now: datetime) -> int:
        """The sender's outgoing transfers since 00:00 UTC today."""
        start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        total = await tx.fetchval(
            "SELECT COALESCE(SUM(amount), 0) AS total FROM transfers "
            "WHERE tenant = ? AND source = ? AND kind = 'transfer' "
            "AND created_at >= ? AND created_at < ?",
            [tenant, sender, start, start + timedelta(days=1)],
        )
        return int(total)
