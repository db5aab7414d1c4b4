"""What the conductor may do about an anomaly, and whether it may do it now.

- `RULES`: the rule table. For each anomaly type, the candidate interventions with
  the Beta prior (successes, failures) the bandit starts from. A `spike` has no
  attendee-facing candidate (nothing to fix); a `mass_exit` always also notifies
  the organizer (`ALWAYS_NOTIFY`), outside the gate and the hourly cap.
- `gate(mode, confidence, threshold, min_confidence)`: `execute`, `ask` (organizer
  approval) or `skip`. Below `min_confidence` is always `skip`; AUTO executes the
  rest; SEMI_AUTO executes at or above `threshold` and asks below it; MANUAL asks.
- `limit_reason(history, kind, now, cooldowns, max_per_hour)`: why an intervention
  type is blocked by its cooldown or by the event's hourly cap, or None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from agentgraph.engagement.detection.anomaly import AnomalyType

InterventionType = Literal["poll", "chat_prompt", "qna_prompt", "quiz", "organizer_notification"]
INTERVENTION_TYPES: tuple[InterventionType, ...] = get_args(InterventionType)
AgentMode = Literal["AUTO", "SEMI_AUTO", "MANUAL"]
GateAction = Literal["execute", "ask", "skip"]

RULES: dict[AnomalyType, tuple[tuple[InterventionType, float, float], ...]] = {
    "sudden_drop": (("poll", 4.0, 1.5), ("quiz", 3.0, 2.0), ("chat_prompt", 2.5, 2.0)),
    "gradual_decline": (("chat_prompt", 3.0, 2.0), ("qna_prompt", 3.0, 2.0), ("poll", 2.5, 2.0)),
    "sustained_low": (("quiz", 3.0, 2.0), ("poll", 3.0, 2.0), ("qna_prompt", 2.0, 2.0)),
    "mass_exit": (("qna_prompt", 2.5, 2.0), ("poll", 2.0, 2.0)),
    "spike": (),
}
ALWAYS_NOTIFY: frozenset[AnomalyType] = frozenset({"mass_exit"})


def candidates(anomaly_type: AnomalyType) -> list[InterventionType]:
    """The rule table's interventions for an anomaly type, best first (none for a spike)."""
    return [kind for kind, _, _ in RULES.get(anomaly_type, ())]


def prior(anomaly_type: AnomalyType, kind: InterventionType) -> tuple[float, float]:
    """The Beta prior `(alpha, beta)` of `kind` for an anomaly type; (1, 1) when off the table."""
    for candidate, alpha, beta in RULES.get(anomaly_type, ()):
        if candidate == kind:
            return alpha, beta
    return 1.0, 1.0


def gate(mode: AgentMode, confidence: float, threshold: float, min_confidence: float) -> GateAction:
    """The approval decision for one candidate (see the module docstring)."""
    if confidence < min_confidence:
        return "skip"
    if mode == "AUTO":
        return "execute"
    if mode == "SEMI_AUTO" and confidence >= threshold:
        return "execute"
    return "ask"


def limit_reason(
    history: Sequence[Mapping[str, Any]],
    kind: InterventionType,
    now: float,
    cooldowns: Mapping[str, float],
    max_per_hour: int,
) -> str | None:
    """Why `kind` may not run at `now` given the event's executed `history`
    (items with `type` and `at`), or None when it may."""
    last_hour = [h for h in history if now - float(h["at"]) < 3600.0]
    if len(last_hour) >= max_per_hour:
        return f"hourly cap reached ({len(last_hour)} of {max_per_hour} in the last hour)"
    cooldown = float(cooldowns.get(kind, 0.0))
    same = [float(h["at"]) for h in history if h["type"] == kind]
    if same and now - max(same) < cooldown:
        left = cooldown - (now - max(same))
        return f"{kind} is cooling down ({left:.0f} s left)"
    return None
