"""The engagement conductor graph: perceive -> decide -> approval_gate -> act ->
measure_outcome -> learn, one thread per event session (`event:{event}:{session}`).

`build_engagement_graph(settings=..., publisher=..., model=None, clock=None, rng=None)`
returns an *uncompiled* `StateGraph`; compile it with a checkpointer and a store (the
bandit posteriors, event settings and the intervention ledger live in the store).
Each run starts from one anomaly (`EngagementInput`) and pauses twice at most with
`interrupt()`:

- `{"kind": "approval", "id", "deadline", ...}` when the mode asks the organizer;
  resume with `{"decision": "approve" | "reject" | "timeout"}`;
- `{"kind": "outcome", "id", "due", ...}` after an intervention; resume at `due`
  with `{"score": <session score then>}`.

The decision needs no model (rule table + Thompson sampling); the model, when given,
only writes content. An intervention is recorded before it enters the event history
and before delivery, so a run resumed after a crash never delivers it twice nor
blocks it with its own cooldown (`agentgraph.engagement.delivery.interventions`). The outcome answer
may carry `before`, the session's level when the intervention was executed; the
reward compares against it (else against the score at detection). Learning happens
once per intervention, under `event_lock(event_id)` (default: an in-process lock).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import Command, interrupt

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.engagement import telemetry
from agentgraph.engagement.conductor import policy
from agentgraph.engagement.conductor.bandit import InterventionBandit, context_key
from agentgraph.engagement.conductor.content import ContentWriter
from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.event_settings import load_event_settings
from agentgraph.engagement.conductor.notifications import (
    facts_of,
    mass_exit_notice_id,
    notify_organizer,
)
from agentgraph.engagement.delivery import interventions
from agentgraph.engagement.delivery.publisher import LogPublisher, Publisher
from agentgraph.engagement.detection.score import audience_bucket, band
from agentgraph.engagement.ownership import CycleOwnership
from agentgraph.models.budget import SpendBudget
from agentgraph.state import EngagementInput, EngagementState

Rt = Runtime[EngagementContext]
DONE: Literal["__end__"] = "__end__"


def _store(runtime: Rt) -> BaseStore:
    if runtime.store is None:
        raise RuntimeError("the engagement graph needs a store (compile it with store=...)")
    return runtime.store


def _facts(state: EngagementState, runtime: Rt) -> dict[str, Any]:
    """Aggregates only: what content writing and notifications may see."""
    return facts_of(runtime.context.session_id, state.anomaly, state.snapshot, state.score)


def build_engagement_graph(
    *,
    settings: Settings,
    publisher: Publisher | None = None,
    model: BaseChatModel | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    budget: SpendBudget | None = None,
    event_lock: Callable[[str], AbstractAsyncContextManager[None]] | None = None,
) -> StateGraph[EngagementState, EngagementContext, EngagementInput, EngagementState]:
    """The conductor graph, uncompiled (see the module docstring)."""
    out: Publisher = publisher or LogPublisher()
    clock = clock or SYSTEM_CLOCK
    draws = rng or random.Random()
    spend = budget or SpendBudget(
        hourly_usd=settings.engagement_llm_hourly_budget_usd,
        daily_usd=settings.engagement_llm_daily_budget_usd,
        clock=clock,
    )
    writer = ContentWriter(
        model, spend, default_price_per_mtok=settings.engagement_llm_default_price_usd_per_mtok
    )
    lock_event = event_lock or CycleOwnership(None).event_lock

    async def perceive(
        state: EngagementState, runtime: Rt
    ) -> Command[Literal["decide", "__end__"]]:
        event = await load_event_settings(_store(runtime), runtime.context.event_id, settings)
        reset: dict[str, Any] = {
            "decision": None,
            "approval": None,
            "intervention": None,
            "outcome": None,
            "started_at": clock.time(),
            "mode": event.mode,
            "cycles": 1,
        }
        if not event.agent_enabled:
            return Command(goto=DONE, update={**reset, "status": "disabled"})
        key = context_key(
            str(state.anomaly.get("anomaly_type")),
            band(state.score),
            audience_bucket(int(state.snapshot.get("present", 0))),
        )
        return Command(goto="decide", update={**reset, "context_key": key, "status": "perceived"})

    async def decide(
        state: EngagementState, runtime: Rt
    ) -> Command[Literal["approval_gate", "__end__"]]:
        ctx, store = runtime.context, _store(runtime)
        event = await load_event_settings(store, ctx.event_id, settings)
        now = clock.time()
        cycle_id = f"{ctx.event_id}:{ctx.session_id}:{state.cycles}"
        anomaly_type = state.anomaly.get("anomaly_type", "sudden_drop")
        if anomaly_type in policy.ALWAYS_NOTIFY and not state.anomaly.get("notified"):
            await notify_organizer(
                store=store,
                publisher=out,
                writer=writer,
                event_id=ctx.event_id,
                facts=_facts(state, runtime),
                notice_id=mass_exit_notice_id(ctx.event_id, ctx.session_id, state.anomaly),
                now=now,
                seed=state.cycles,
            )
        history = await interventions.history(store, ctx.event_id)
        blocked: dict[str, str] = {}
        allowed: list[policy.InterventionType] = []
        for kind in policy.candidates(anomaly_type):
            reason = policy.limit_reason(
                history, kind, now, event.cooldowns, event.max_interventions_per_hour
            )
            if reason:
                blocked[kind] = reason
            else:
                allowed.append(kind)
        base: dict[str, Any] = {
            "id": cycle_id,
            "session_id": ctx.session_id,
            "anomaly_type": anomaly_type,
            "mode": event.mode,
            "threshold": event.auto_approve_threshold,
            "blocked": blocked,
        }
        if not allowed:
            why = "; ".join(blocked.values()) or f"no intervention suits a {anomaly_type}"
            decision = {
                **base,
                "action": "skip",
                "intervention_type": None,
                "confidence": None,
                "candidates": {},
                "reasoning": f"Skipped: {why}.",
            }
            return await _publish_decision(runtime, state, decision, goto=DONE)
        samples = await InterventionBandit(store, draws).sample(
            ctx.event_id, state.context_key, allowed
        )
        choice = max(samples, key=lambda k: samples[k])
        confidence = round(samples[choice], 4)
        action = policy.gate(
            event.mode, confidence, event.auto_approve_threshold, settings.engagement_min_confidence
        )
        draws_text = ", ".join(f"{k} {v:.2f}" for k, v in sorted(samples.items()))
        verdict = {
            "execute": "executes now",
            "ask": "asks the organizer",
            "skip": f"skips (below the minimum confidence {settings.engagement_min_confidence})",
        }[action]
        reasoning = (
            f"{anomaly_type} ({state.anomaly.get('severity')}): score {state.score:.0f} against "
            f"baseline {float(state.anomaly.get('baseline', 0)):.0f}. Thompson draws for "
            f"{state.context_key}: {draws_text} -> {choice} at {confidence:.2f}. Mode "
            f"{event.mode}, threshold {event.auto_approve_threshold:.2f}: {verdict}."
        )
        decision = {
            **base,
            "action": action,
            "intervention_type": choice,
            "confidence": confidence,
            "candidates": {k: round(v, 4) for k, v in samples.items()},
            "reasoning": reasoning,
        }
        if action == "ask":
            decision["deadline"] = now + settings.engagement_approval_timeout_seconds
        goto = DONE if action == "skip" else "approval_gate"
        return await _publish_decision(runtime, state, decision, goto=goto)

    async def _publish_decision(
        runtime: Rt, state: EngagementState, decision: dict[str, Any], goto: str
    ) -> Command[Any]:
        telemetry.record_decision(
            decision["action"], decision["confidence"], clock.time() - state.started_at
        )
        await out.organizer(runtime.context.event_id, {"type": "decision", **decision})
        status = "skipped" if decision["action"] == "skip" else "decided"
        return Command(goto=goto, update={"decision": decision, "status": status})

    async def approval_gate(
        state: EngagementState, runtime: Rt
    ) -> Command[Literal["act", "__end__"]]:
        decision = state.decision or {}
        if decision.get("action") == "execute":
            return Command(goto="act", update={"approval": "auto"})
        answer = interrupt(
            {
                "kind": "approval",
                "id": decision.get("id"),
                "deadline": decision.get("deadline"),
                "intervention_type": decision.get("intervention_type"),
                "confidence": decision.get("confidence"),
                "reasoning": decision.get("reasoning"),
                "session_id": runtime.context.session_id,
            }
        )
        verdict = answer.get("decision") if isinstance(answer, dict) else str(answer)
        if verdict == "approve":
            return Command(goto="act", update={"approval": "approved"})
        status = "timed_out" if verdict == "timeout" else "rejected"
        reason = "approval timed out" if verdict == "timeout" else "rejected by the organizer"
        await out.organizer(
            runtime.context.event_id,
            {**decision, "type": "decision", "action": "skip", "reasoning": f"Skipped: {reason}."},
        )
        return Command(goto=DONE, update={"approval": status, "status": status})

    async def act(
        state: EngagementState, runtime: Rt
    ) -> Command[Literal["measure_outcome", "__end__"]]:
        ctx, store = runtime.context, _store(runtime)
        decision = state.decision or {}
        kind: policy.InterventionType = decision["intervention_type"]
        existing = await interventions.recorded(store, ctx.event_id, decision["id"])
        if existing is None:
            now = clock.time()
            event = await load_event_settings(store, ctx.event_id, settings)
            history = await interventions.history(store, ctx.event_id)
            reason = policy.limit_reason(
                history, kind, now, event.cooldowns, event.max_interventions_per_hour
            )
            if reason:
                await out.organizer(
                    ctx.event_id,
                    {
                        **decision,
                        "type": "decision",
                        "action": "skip",
                        "reasoning": f"Skipped after approval: {reason}.",
                    },
                )
                return Command(goto=DONE, update={"status": "skipped"})
            content, source = await writer.write(kind, _facts(state, runtime), seed=state.cycles)
            intervention = {
                "id": decision["id"],
                "session_id": ctx.session_id,
                "intervention_type": kind,
                "content": content,
                "source": source,
                "confidence": decision.get("confidence"),
                "approval": state.approval,
                "executed_at": now,
            }
            # The record first: a run cut after this point resumes past the limit
            # checks instead of meeting its own history entry as a cooldown.
            await interventions.record(store, ctx.event_id, intervention)
            telemetry.INTERVENTIONS.labels(kind, source).inc()
        else:
            intervention = {k: v for k, v in existing.items() if k not in ("delivered", "learned")}
        at = float(intervention["executed_at"])
        await interventions.append_history(
            store, ctx.event_id, {"id": intervention["id"], "type": kind, "at": at}, clock.time()
        )
        delivered = await interventions.deliver_once(store, out, ctx.event_id, intervention)
        record = {k: v for k, v in delivered.items() if k not in ("delivered", "learned")}
        return Command(
            goto="measure_outcome", update={"intervention": record, "status": "executed"}
        )

    async def measure_outcome(state: EngagementState, runtime: Rt) -> Command[Literal["learn"]]:
        intervention = state.intervention or {}
        due = float(intervention.get("executed_at", 0)) + settings.engagement_outcome_delay_seconds
        answer = interrupt(
            {
                "kind": "outcome",
                "id": intervention.get("id"),
                "due": due,
                "session_id": runtime.context.session_id,
            }
        )
        after = float(answer.get("score", 0.0)) if isinstance(answer, dict) else float(answer)
        before = state.score
        if isinstance(answer, dict) and isinstance(answer.get("before"), int | float):
            before = float(answer["before"])
        delta = round(after - before, 1)
        outcome = {
            "id": intervention.get("id"),
            "intervention_type": intervention.get("intervention_type"),
            "score_before": before,
            "score_after": after,
            "delta": delta,
            "success": delta >= settings.engagement_success_delta,
        }
        return Command(goto="learn", update={"outcome": outcome, "status": "measured"})

    async def learn(state: EngagementState, runtime: Rt) -> dict[str, Any]:
        outcome = dict(state.outcome or {})
        kind = outcome["intervention_type"]
        store, event_id = _store(runtime), runtime.context.event_id
        bandit = InterventionBandit(store, draws)
        async with lock_event(event_id):
            # Checked and set under the event lock: another worker or a resumed run
            # that reaches learn again for the same intervention adds nothing.
            first = await interventions.mark_learned(store, event_id, str(outcome["id"]))
            if first:
                posterior = await bandit.update(
                    event_id, state.context_key, kind, bool(outcome["success"])
                )
            else:
                posterior = (await bandit.posteriors(event_id, state.context_key, [kind]))[kind]
        if first:
            telemetry.record_outcome(kind, bool(outcome["success"]))
        outcome["posterior"] = {"alpha": posterior.alpha, "beta": posterior.beta}
        outcome["context"] = state.context_key
        await out.organizer(runtime.context.event_id, {"type": "outcome", **outcome})
        return {"outcome": outcome, "status": "learned"}

    graph = StateGraph(
        EngagementState, context_schema=EngagementContext, input_schema=EngagementInput
    )
    graph.add_node("perceive", perceive, destinations=("decide", END))
    graph.add_node("decide", decide, destinations=("approval_gate", END))
    graph.add_node("approval_gate", approval_gate, destinations=("act", END))
    graph.add_node("act", act, destinations=("measure_outcome", END))
    graph.add_node("measure_outcome", measure_outcome, destinations=("learn",))
    graph.add_node("learn", learn)
    graph.add_edge(START, "perceive")
    graph.add_edge("learn", END)
    return graph
