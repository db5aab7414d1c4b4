"""How tools write amounts and times for the customer: RWF with grouping, Kigali time."""

from __future__ import annotations

from datetime import UTC, datetime

from agentgraph.clock import KIGALI

__all__ = ["local_time", "money"]


def money(amount: int) -> str:
    """5000 -> '5,000 RWF'."""
    return f"{amount:,} RWF"


def local_time(moment: datetime) -> str:
    """A departure as the user reads it, in Kigali time: 'Mon 24 Nov 07:00'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(KIGALI).strftime("%a %d %b %H:%M")
