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
only writes content. An intervention is recorded before delivery, so a run resumed
after a crash never delivers it twice (`agentgraph.engagement.ledger`).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import Command, interrupt

from agentgraph.config import Settings
from agentgraph.engagement import ledger, policy
from agentgraph.engagement import metrics as m
from agentgraph.engagement.bandit import InterventionBandit, context_key
from agentgraph.engagement.budgets import LLMBudget
from agentgraph.engagement.clock import Clock, SystemClock
from agentgraph.engagement.content import ContentWriter
from agentgraph.engagement.context import EngagementContext
from agentgraph.engagement.event_settings import load_event_settings
from agentgraph.engagement.publisher import LogPublisher, Publisher
from agentgraph.engagement.score import audience_bucket, band
from agentgraph.state import EngagementInput, EngagementState

Rt = Runtime[EngagementContext]
DONE: Literal["__end__"] = "__end__"


def _store(runtime: Rt) -> BaseStore:
    if runtime.store is None:
        raise RuntimeError("the engagement graph needs a store (compile it with store=...)")
    return runtime.store


def _facts(state: EngagementState, runtime: Rt) -> dict[str, Any]:
    """Aggregates only: what content writing and notifications may see."""
    anomaly = state.anomaly
    return {
        "session_id": runtime.context.session_id,
        "anomaly_type": anomaly.get("anomaly_type"),
        "severity": anomaly.get("severity"),
        "score": anomaly.get("score", state.score),
        "baseline": anomaly.get("baseline"),
        "exits": anomaly.get("details", {}).get("exits", 0),
        "audience": state.snapshot.get("present"),
        "chat_per_min": state.snapshot.get("chat_per_min"),
        "poll_participation": state.snapshot.get("poll_participation"),
    }


def build_engagement_graph(
    *,
    settings: Settings,
    publisher: Publisher | None = None,
    model: BaseChatModel | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    budget: LLMBudget | None = None,
) -> StateGraph[EngagementState, EngagementContext, EngagementInput, EngagementState]:
    """The conductor graph, uncompiled (see the module docstring)."""
    out: Publisher = publisher or LogPublisher()
    time: Clock = clock or SystemClock()
    draws = rng or random.Random()
    spend = budget or LLMBudget(
        settings.engagement_llm_hourly_budget_usd, settings.engagement_llm_daily_budget_usd, time
    )
    writer = ContentWriter(model, spend)

    async def perceive(
        state: EngagementState, runtime: Rt
    ) -> Command[Literal["decide", "__end__"]]:
        event = await load_event_settings(_store(runtime), runtime.context.event_id, settings)
        reset: dict[str, Any] = {
            "decision": None,
            "approval": None,
            "intervention": None,
            "outcome": None,
            "started_at": time.now(),
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
        now = time.now()
        cycle_id = f"{ctx.event_id}:{ctx.session_id}:{state.cycles}"
        anomaly_type = state.anomaly.get("anomaly_type", "sudden_drop")
        if anomaly_type in policy.ALWAYS_NOTIFY:
            await _notify_organizer(state, runtime, f"{cycle_id}:notify", now)
        history = await ledger.history(store, ctx.event_id)
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
        m.record_decision(decision["action"], decision["confidence"], time.now() - state.started_at)
        await out.organizer(runtime.context.event_id, {"type": "decision", **decision})
        status = "skipped" if decision["action"] == "skip" else "decided"
        return Command(goto=goto, update={"decision": decision, "status": status})

    async def _notify_organizer(
        state: EngagementState, runtime: Rt, notice_id: str, now: float
    ) -> None:
        facts = _facts(state, runtime)
        content, source = await writer.write("organizer_notification", facts, seed=state.cycles)
        notice = {
            "id": notice_id,
            "session_id": runtime.context.session_id,
            "intervention_type": "organizer_notification",
            "content": content,
            "source": source,
            "executed_at": now,
        }
        await ledger.deliver_once(_store(runtime), out, runtime.context.event_id, notice)
        m.INTERVENTIONS.labels("organizer_notification", source).inc()

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
        existing = await ledger.recorded(store, ctx.event_id, decision["id"])
        if existing is None:
            now = time.now()
            event = await load_event_settings(store, ctx.event_id, settings)
            history = await ledger.history(store, ctx.event_id)
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
            await ledger.append_history(
                store, ctx.event_id, {"id": decision["id"], "type": kind, "at": now}, now
            )
            m.INTERVENTIONS.labels(kind, source).inc()
        else:
            intervention = {k: v for k, v in existing.items() if k != "delivered"}
        delivered = await ledger.deliver_once(store, out, ctx.event_id, intervention)
        record = {k: v for k, v in delivered.items() if k != "delivered"}
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
        delta = round(after - state.score, 1)
        outcome = {
            "id": intervention.get("id"),
            "intervention_type": intervention.get("intervention_type"),
            "score_before": state.score,
            "score_after": after,
            "delta": delta,
            "success": delta >= settings.engagement_success_delta,
        }
        return Command(goto="learn", update={"outcome": outcome, "status": "measured"})

    async def learn(state: EngagementState, runtime: Rt) -> dict[str, Any]:
        outcome = dict(state.outcome or {})
        kind = outcome["intervention_type"]
        posterior = await InterventionBandit(_store(runtime), draws).update(
            runtime.context.event_id, state.context_key, kind, bool(outcome["success"])
        )
        m.record_outcome(kind, bool(outcome["success"]))
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
