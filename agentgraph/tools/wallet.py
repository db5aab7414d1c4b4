"""Wallet tools: balance, history and peer-to-peer transfers (with confirmation).

`transfer_money` checks everything it can before asking (amount, recipient, balance,
limits) so the user is never asked to confirm something that cannot happen, then
pauses for an explicit yes and moves the money with an idempotency key naming this
transfer in this turn. The sender is always the user in the runtime context.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain import DomainError, LimitExceeded, ProfileNotFound, RecipientNotFound
from agentgraph.domain.phones import normalize_phone
from agentgraph.tools.confirm import require_confirmation
from agentgraph.tools.formatting import local_time, money
from agentgraph.tools.idempotency import idempotency_key, requested_at
from agentgraph.tools.services import identity, services_of

__all__ = ["check_balance", "transaction_history", "transfer_money"]


@tool
async def check_balance(runtime: ToolRuntime[Context, Any]) -> str:
    """Show the user's current wallet balance in RWF."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    await domain.profiles.get_or_create(tenant, phone)
    balance = await domain.wallets.balance(tenant, phone)
    return f"Your wallet balance is {money(balance)}."


@tool
async def transaction_history(
    runtime: ToolRuntime[Context, Any],
    limit: Annotated[int, Field(ge=1, le=20, description="How many recent entries.")] = 5,
) -> str:
    """List the user's most recent wallet transactions, newest first."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    await domain.profiles.get_or_create(tenant, phone)
    entries = await domain.wallets.history(tenant, phone, limit=limit)
    if not entries:
        return "You have no transactions yet."
    lines = [f"Your last {len(entries)} transaction(s):"]
    for e in entries:
        sign = "+" if e.amount > 0 else "-"
        other = f" ({e.counterparty})" if e.counterparty else ""
        note = f" {e.note}" if e.note else ""
        lines.append(f"- {local_time(e.created_at)}: {sign}{money(abs(e.amount))}{other}{note}")
    return "\n".join(lines)


@tool
async def transfer_money(
    runtime: ToolRuntime[Context, Any],
    recipient_phone: Annotated[
        str, Field(description="Recipient phone, e.g. 0788123456 or +250788123456.")
    ],
    amount: int = Field(description="Whole RWF to send, e.g. 5000."),
    note: Annotated[str | None, Field(description="Optional message for the recipient.")] = None,
) -> str:
    """Send money from the user's wallet to another user. Always asks the user to confirm."""
    services = services_of(runtime)
    domain, settings = services.domain, services.settings
    tenant, phone = identity(runtime)
    try:
        recipient = normalize_phone(recipient_phone)
    except DomainError as exc:
        return exc.user_message
    profile = await domain.profiles.get_or_create(tenant, phone)
    if amount <= 0:
        return "The amount must be a positive number of RWF."
    if amount > settings.transfer_limit:
        return f"The most you can send in one transfer is {money(settings.transfer_limit)}."
    if recipient == phone:
        return "You cannot send money to yourself."
    try:
        target = await domain.profiles.get(tenant, recipient)
    except ProfileNotFound:
        return RecipientNotFound(recipient).user_message
    who = f"{target.name} ({recipient})" if target.name else recipient
    key = idempotency_key(runtime, "transfer", recipient, amount)
    # This message's transfer already went through (a re-run after a crash): say so
    # again rather than judge it anew against the balance it already lowered.
    done = await domain.wallets.transfer_by_key(tenant, key)
    if done is not None:
        return _sent(done.amount, who, done.id, done.sender_balance)
    balance = await domain.wallets.balance(tenant, phone)
    if balance < amount:
        return f"You do not have enough money: your balance is {money(balance)}."
    # The daily limit is judged before asking, so a yes is never asked for in vain.
    room = await domain.wallets.daily_room(tenant, phone)
    if amount > room:
        return LimitExceeded("daily", domain.wallets.daily_transfer_limit, room).user_message
    decision = require_confirmation(
        action="transfer_money",
        summary=f"Send {money(amount)} to {who}?",
        details={"amount": amount, "currency": "RWF", "recipient": recipient},
        language=profile.language,
        ttl_seconds=settings.confirmation_ttl_seconds,
        requested_at=requested_at(runtime),
        prompts=services.prompts,
        clock=services.clock,
    )
    if not decision.approved:
        return decision.message
    try:
        transfer = await domain.wallets.transfer(tenant, phone, recipient, amount, key, note=note)
    except DomainError as exc:
        return exc.user_message
    services.faults.point("after_effect")
    return _sent(transfer.amount, who, transfer.id, transfer.sender_balance)


def _sent(amount: int, who: str, reference: int, balance: int) -> str:
    return (
        f"Done: sent {money(amount)} to {who}. Reference T{reference}. "
        f"Your new balance is {money(balance)}."
    )


transfer_money.metadata = {"needs_confirmation": True, "moves_money": True}
