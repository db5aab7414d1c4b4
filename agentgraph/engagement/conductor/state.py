"""Typed graph state of the conductor: one anomaly in, one cycle on the session's thread.

`EngagementInput` is what a caller sends: one session anomaly with the aggregates it
was detected on (never attendee identity or chat text). `EngagementState` adds what
one conductor cycle produces (decision, approval, intervention, outcome) and keeps on
the thread `event:{event_id}:{session_id}`; `perceive` resets those fields at the
start of every cycle and `cycles` counts the cycles of the thread, which makes every
decision id unique.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any


@dataclass(kw_only=True)
class EngagementInput:
    """One anomaly of one live-event session, as the collector reports it (aggregates
    only: no attendee identity, no chat text).

    `anomaly` is `Anomaly.as_dict()` (`anomaly_type`: sudden_drop, gradual_decline,
    sustained_low, mass_exit or spike; `severity`, `score`, `baseline`, `magnitude`,
    `detected_at`, `details`); `snapshot` is `SessionSnapshot.as_dict()` (`present`,
    `active`, `chat_per_min`, `reactions_per_min`, `poll_participation`, ...); `score`
    is the session's 0-100 score at detection. `perceive` refuses a state without an
    anomaly type or a snapshot.
    """

    anomaly: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0


@dataclass(kw_only=True)
class EngagementState(EngagementInput):
    """One conductor cycle per anomaly: decision, approval, intervention, outcome."""

    context_key: str = ""
    mode: str = "SEMI_AUTO"
    decision: dict[str, Any] | None = None
    approval: str | None = None
    intervention: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None
    status: str = "idle"
    started_at: float = 0.0
    cycles: Annotated[int, operator.add] = 0
