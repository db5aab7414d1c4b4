"""The 0-100 engagement score of one session snapshot, and its bands.

    score = 100 * sum(w_i * c_i) / sum(w_i)  *  (1 - LEAVE_PENALTY * leave)

with components in [0, 1]:

- chat      = 1 - exp(-chat_per_min / 10)         weight 0.35
- poll      = distinct voters / present            weight 0.25 (left out, and the
                                                   other weights renormalised, when
                                                   no poll is running)
- active    = attendees with a chat/vote/reaction in the window / present   weight 0.20
- reactions = 1 - exp(-reactions_per_min / 10)    weight 0.20
- leave     = min(1, 10 * share of the audience leaving per minute); a 10 %/min exodus
              halves the score (LEAVE_PENALTY = 0.5)

An empty session scores 0. Bands: `high` >= 65, `medium` >= 35, else `low`. Seed 002
sanity check: 20 chats/min, 60 % poll participation, 70 % active, 10 reactions/min
scores about 72 (high); 2 chats/min, 15 %, 20 % active, 2 reactions/min about 17 (low).
"""

from __future__ import annotations

import math
from typing import Literal

from agentgraph.engagement.signals.windows import SessionSnapshot

Band = Literal["high", "medium", "low"]

WEIGHTS: dict[str, float] = {"chat": 0.35, "poll": 0.25, "active": 0.20, "reactions": 0.20}
CHAT_SCALE_PER_MIN = 10.0
REACTION_SCALE_PER_MIN = 10.0
LEAVE_PENALTY = 0.5
LEAVE_FULL_SHARE_PER_MIN = 0.10
HIGH_BAND = 65.0
MEDIUM_BAND = 35.0


def components(snapshot: SessionSnapshot) -> dict[str, float]:
    """Each normalised component in [0, 1]; `poll` is absent when no poll runs."""
    out = {
        "chat": 1.0 - math.exp(-snapshot.chat_per_min / CHAT_SCALE_PER_MIN),
        "active": snapshot.active_ratio,
        "reactions": 1.0 - math.exp(-snapshot.reactions_per_min / REACTION_SCALE_PER_MIN),
        "leave": min(1.0, snapshot.leave_fraction_per_min / LEAVE_FULL_SHARE_PER_MIN),
    }
    if snapshot.poll_participation is not None:
        out["poll"] = snapshot.poll_participation
    return out


def engagement_score(snapshot: SessionSnapshot) -> float:
    """The session's engagement, 0 (nothing happening) to 100, rounded to 0.1."""
    if snapshot.present == 0 and snapshot.active == 0:
        return 0.0
    parts = components(snapshot)
    weighted = sum(WEIGHTS[name] * parts[name] for name in WEIGHTS if name in parts)
    total_weight = sum(WEIGHTS[name] for name in WEIGHTS if name in parts)
    base = weighted / total_weight
    score = 100.0 * base * (1.0 - LEAVE_PENALTY * parts["leave"])
    return round(max(0.0, min(100.0, score)), 1)


def band(score: float) -> Band:
    """`high` at or above 65, `medium` at or above 35, else `low`."""
    if score >= HIGH_BAND:
        return "high"
    if score >= MEDIUM_BAND:
        return "medium"
    return "low"


def audience_bucket(present: int) -> Literal["small", "medium", "large"]:
    """Audience size as a bandit context: small < 25 <= medium < 150 <= large."""
    if present < 25:
        return "small"
    if present < 150:
        return "medium"
    return "large"
