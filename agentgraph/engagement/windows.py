"""Sliding windows over one session's signals, reduced to anonymous aggregates.

`SessionWindows(window_seconds)` takes signals with `add(signal, at)` (`at` is the
server's receipt time from the injected clock, so client clock skew cannot distort
rates) and `snapshot(now)` returns a `SessionSnapshot`: counts and rates only. The
attendee keys stay inside this object; a snapshot holds no identity and no text.
Memory per session is bounded by the attendees seen plus the signals inside one
window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from agentgraph.engagement.signals import Signal


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """Aggregates of one session over the last window (rates per minute)."""

    present: int
    active: int
    chat_per_min: float
    reactions_per_min: float
    poll_participation: float | None
    leaves_per_min: float
    joins_per_min: float
    leaves_in_window: int

    @property
    def active_ratio(self) -> float:
        return min(1.0, self.active / self.present) if self.present else 0.0

    @property
    def leave_fraction_per_min(self) -> float:
        """Share of the audience leaving per minute (leavers over present + leavers)."""
        base = self.present + self.leaves_in_window
        return self.leaves_per_min / base if base else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["active_ratio"] = round(self.active_ratio, 4)
        return data


def _prune(times: deque[float], cutoff: float) -> None:
    while times and times[0] < cutoff:
        times.popleft()


class SessionWindows:
    """Per-session sliding windows; not thread-safe (one event loop owns it)."""

    def __init__(self, window_seconds: float) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        self.window = float(window_seconds)
        self._chats: deque[float] = deque()
        self._reactions: deque[float] = deque()
        self._leaves: deque[float] = deque()
        self._joins: deque[float] = deque()
        self._last_active: dict[str, float] = {}
        self._last_vote: dict[str, float] = {}
        self._present: set[str] = set()
        self._poll_opened_at: float | None = None
        self.last_signal_at: float | None = None
        self.signals_total = 0

    def add(self, signal: Signal, at: float) -> None:
        """Record one signal received at time `at`."""
        self.signals_total += 1
        self.last_signal_at = at
        kind, user = signal.type, signal.user
        if kind == "poll_open":
            self._poll_opened_at = at
            return
        if kind == "leave":
            self._leaves.append(at)
            self._present.discard(user)
            self._last_active.pop(user, None)
            return
        self._present.add(user)
        if kind == "join":
            self._joins.append(at)
            return
        self._last_active[user] = at
        if kind == "chat":
            self._chats.append(at)
        elif kind == "reaction":
            self._reactions.append(at)
        else:
            self._last_vote[user] = at

    def snapshot(self, now: float) -> SessionSnapshot:
        """Aggregates for the window ending at `now`; drops state older than the window."""
        cutoff = now - self.window
        for times in (self._chats, self._reactions, self._leaves, self._joins):
            _prune(times, cutoff)
        stale = [u for u, t in self._last_active.items() if t < cutoff]
        for user in stale:
            del self._last_active[user]
        stale = [u for u, t in self._last_vote.items() if t < cutoff]
        for user in stale:
            del self._last_vote[user]
        per_min = 60.0 / self.window
        present = len(self._present)
        voters = len(self._last_vote)
        poll_recent = self._poll_opened_at is not None and self._poll_opened_at >= cutoff
        participation: float | None = None
        if voters or poll_recent:
            participation = min(1.0, voters / present) if present else 0.0
        return SessionSnapshot(
            present=present,
            active=len(self._last_active),
            chat_per_min=len(self._chats) * per_min,
            reactions_per_min=len(self._reactions) * per_min,
            poll_participation=participation,
            leaves_per_min=len(self._leaves) * per_min,
            joins_per_min=len(self._joins) * per_min,
            leaves_in_window=len(self._leaves),
        )
