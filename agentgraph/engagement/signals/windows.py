"""Sliding windows over one session's signals, reduced to anonymous aggregates.

`SessionWindows(window_seconds)` takes signals with `add(signal, at)` (`at` is the
server's receipt time from the injected clock, so client clock skew cannot distort
rates) and `snapshot(now)` returns a `SessionSnapshot`: counts and rates only. The
attendee keys stay inside this object; a snapshot holds no identity and no text.
Memory per session is bounded: at most `max_present` attendees are tracked as
present (past the cap a new attendee replaces the one silent the longest), an
attendee with no signal for `presence_idle_seconds` no longer counts as present
(clients resend `join` as a heartbeat for silent viewers), and only the signals
inside one window are kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from agentgraph.engagement.signals.parsing import Signal


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
        """Share of the present audience that was active in the window (0-1)."""
        return min(1.0, self.active / self.present) if self.present else 0.0

    @property
    def leave_fraction_per_min(self) -> float:
        """Share of the audience leaving per minute (leavers over present + leavers)."""
        base = self.present + self.leaves_in_window
        return self.leaves_per_min / base if base else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The aggregates as a dict, with `active_ratio`."""
        data = asdict(self)
        data["active_ratio"] = round(self.active_ratio, 4)
        return data


def _prune(times: deque[float], cutoff: float) -> None:
    while times and times[0] < cutoff:
        times.popleft()


class SessionWindows:
    """Per-session sliding windows; not thread-safe (one event loop owns it)."""

    def __init__(
        self,
        window_seconds: float,
        *,
        max_present: int = 20_000,
        presence_idle_seconds: float = 3600.0,
    ) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        self.window = float(window_seconds)
        self.max_present = max_present
        self.presence_idle = float(presence_idle_seconds)
        self._chats: deque[float] = deque()
        self._reactions: deque[float] = deque()
        self._leaves: deque[float] = deque()
        self._joins: deque[float] = deque()
        self._last_active: dict[str, float] = {}
        self._last_vote: dict[str, float] = {}
        # Attendee -> last signal time, oldest first (re-inserted on every signal).
        self._present: dict[str, float] = {}
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
            self._present.pop(user, None)
            self._last_active.pop(user, None)
            return
        self._seen(user, at)
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

    def _seen(self, user: str, at: float) -> None:
        if self._present.pop(user, None) is None and len(self._present) >= self.max_present:
            oldest = next(iter(self._present))
            del self._present[oldest]
            self._last_active.pop(oldest, None)
            self._last_vote.pop(oldest, None)
        self._present[user] = at

    @property
    def present_count(self) -> int:
        """Attendees counted as present right now."""
        return len(self._present)

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
        idle_cutoff = now - self.presence_idle
        while self._present:
            user, seen = next(iter(self._present.items()))
            if seen >= idle_cutoff:
                break
            del self._present[user]
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
