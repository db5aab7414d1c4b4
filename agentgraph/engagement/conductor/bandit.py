"""Thompson sampling over Beta posteriors, one per intervention and context.

A context is `(anomaly type, engagement band, audience size)`; its posteriors live
in the LangGraph store under `("engagement", "bandit", event_id)`, key
`"{anomaly}|{band}|{audience}"`, value `{"arms": {intervention: [alpha, beta]}}`, so
every session of an event learns from the others and the learning survives restarts.
An arm never updated starts from the rule table's prior (`policy.prior`).
`sample()` draws one value per candidate from its posterior: the draw is that
candidate's confidence. `update()` adds one success or one failure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from langgraph.store.base import BaseStore

from agentgraph.engagement.conductor.policy import InterventionType, prior
from agentgraph.engagement.detection.anomaly import AnomalyType


def context_key(anomaly_type: str, band: str, audience: str) -> str:
    """The store key of a bandit context: `{anomaly_type}|{band}|{audience}`."""
    return f"{anomaly_type}|{band}|{audience}"


def namespace(event_id: str) -> tuple[str, ...]:
    """The store namespace of an event's posteriors (shared by all its sessions)."""
    return ("engagement", "bandit", event_id)


@dataclass(frozen=True)
class Posterior:
    """A Beta(alpha, beta) posterior over one intervention's success rate."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """The expected success rate."""
        return self.alpha / (self.alpha + self.beta)


class InterventionBandit:
    """Reads and updates the posteriors of one store."""

    def __init__(self, store: BaseStore, rng: random.Random | None = None) -> None:
        self.store = store
        self.rng = rng or random.Random()

    async def posteriors(
        self, event_id: str, key: str, candidates: list[InterventionType]
    ) -> dict[InterventionType, Posterior]:
        """Each candidate's posterior in a context; the rule table's prior when never updated."""
        item = await self.store.aget(namespace(event_id), key)
        arms = item.value.get("arms", {}) if item else {}
        anomaly_type: AnomalyType = key.split("|", 1)[0]  # type: ignore[assignment]
        out: dict[InterventionType, Posterior] = {}
        for kind in candidates:
            alpha, beta = arms.get(kind) or prior(anomaly_type, kind)
            out[kind] = Posterior(float(alpha), float(beta))
        return out

    async def sample(
        self, event_id: str, key: str, candidates: list[InterventionType]
    ) -> dict[InterventionType, float]:
        """One Thompson draw per candidate (its confidence for this decision)."""
        posts = await self.posteriors(event_id, key, candidates)
        return {kind: self.rng.betavariate(p.alpha, p.beta) for kind, p in posts.items()}

    async def update(
        self, event_id: str, key: str, kind: InterventionType, success: bool
    ) -> Posterior:
        """Add one outcome to an arm; returns the new posterior."""
        item = await self.store.aget(namespace(event_id), key)
        arms = dict(item.value.get("arms", {})) if item else {}
        anomaly_type: AnomalyType = key.split("|", 1)[0]  # type: ignore[assignment]
        alpha, beta = arms.get(kind) or prior(anomaly_type, kind)
        alpha, beta = (alpha + 1, beta) if success else (alpha, beta + 1)
        arms[kind] = [alpha, beta]
        await self.store.aput(namespace(event_id), key, {"arms": arms})
        return Posterior(alpha, beta)
