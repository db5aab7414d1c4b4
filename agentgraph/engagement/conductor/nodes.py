"""The conductor graph's nodes, one module-level function per step of a cycle.

Each node is typed `(state: EngagementState, runtime: Runtime[EngagementContext])`
and finds what it works with in `runtime.context.deps` (`ConductorDeps`) and the
store in `runtime.store`; nothing is captured in closures, so a node can be imported,
read and tested on its own. The order and the promises of the cycle (the two
interrupts, ledger before delivery, learning once) are in `graph.py`'s docstring;
the comments here say why a step is done where it is. A node that ends the cycle
returns `goto="__end__"` spelled out: `langgraph.graph.END` is typed `str`, which
mypy does not accept where the `Command[Literal[...]]` return types (each node's
destinations, checked statically) expect a literal.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import Command, interrupt

from agentgraph.engagement import telemetry
from agentgraph.engagement.conductor import policy
from agentgraph.engagement.conductor.bandit import InterventionBandit, context_key
from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.event_settings import load_event_settings
from agentgraph.engagement.conductor.notifications import (
    facts_of,
    mass_exit_notice_id,
    notify_organizer,
)
from agentgraph.engagement.conductor.state import EngagementState
from agentgraph.engagement.delivery import interventions
from agentgraph.engagement.detection.anomaly import ANOMALY_TYPES
from agentgraph.engagement.detection.score import audience_bucket, band

_INPUT_EXAMPLE = (
    'send {"anomaly": {"anomaly_type": "sudden_drop", "severity": "high", "score": 20, '
    '"baseline": 70}, "snapshot": {"present": 50, "chat_per_min": 2}, "score": 20}'
)


def _store(runtime: Runtime[EngagementContext]) -> BaseStore:
    if runtime.store is None:
        raise RuntimeError("the engagement graph needs a store (compile it with store=...)")
    return runtime.store


def _facts(state: EngagementState, runtime: Runtime[EngagementContext]) -> dict[str, Any]:
    """Aggregates only: what content writing and notifications may see."""
    return facts_of(runtime.context.session_id, state.anomaly, state.snapshot, state.score)


def check_input(state: EngagementState) -> None:
    """Raise ValueError, naming what is missing, unless the state holds an anomaly to act on.

    An empty input (LangGraph Studio's default form) would otherwise run a whole
    decision on nothing: no anomaly type, an audience of zero.
    """
    kind = state.anomaly.get("anomaly_type")
    if not kind:
        raise ValueError(
            "the engagement graph needs an anomaly: `anomaly.anomaly_type` is missing "
            f"(one of {', '.join(ANOMALY_TYPES)}); {_INPUT_EXAMPLE}"
        )
    if kind not in ANOMALY_TYPES:
        raise ValueError(
            f"unknown anomaly type {kind!r} in `anomaly.anomaly_type`; expected one of "
            f"{', '.join(ANOMALY_TYPES)}"
        )
    if not state.snapshot:
        raise ValueError(
            "the engagement graph needs the session's aggregates: `snapshot` is empty "
            f"(at least `present`, the audience size); {_INPUT_EXAMPLE}"
        )


async def perceive(
    state: EngagementState, runtime: Runtime[EngagementContext]
) -> Command[Literal["decide", "__end__"]]:
    """Start a cycle: reset the last cycle's fields, stop if the agent is disabled."""
    check_input(state)
    deps = runtime.context.deps
    event = await load_event_settings(_store(runtime), runtime.context.event_id, deps.settings)
    reset: dict[str, Any] = {
        "decision": None,
        "approval": None,
        "intervention": None,
        "outcome": None,
        "started_at": deps.clock.time(),
        "mode": event.mode,
        "cycles": 1,
    }
    if not event.agent_enabled:
        return Command(goto="__end__", update={**reset, "status": "disabled"})
    key = context_key(
        str(state.anomaly.get("anomaly_type")),
        band(state.score),
        audience_bucket(int(state.snapshot.get("present", 0))),
    )
    return Command(goto="decide", update={**reset, "context_key": key, "status": "perceived"})


async def decide(
    state: EngagementState, runtime: Runtime[EngagementContext]
) -> Command[Literal["approval_gate", "__end__"]]:
    """Pick an intervention (rules, limits, Thompson draws) and gate it by the mode."""
    ctx, store, deps = runtime.context, _store(runtime), runtime.context.deps
    settings = deps.settings
    event = await load_event_settings(store, ctx.event_id, settings)
    now = deps.clock.time()
    cycle_id = f"{ctx.event_id}:{ctx.session_id}:{state.cycles}"
    anomaly_type = state.anomaly.get("anomaly_type", "sudden_drop")
    if anomaly_type in policy.ALWAYS_NOTIFY and not state.anomaly.get("notified"):
        await notify_organizer(
            store=store,
            publisher=deps.publisher,
            writer=deps.writer,
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
        await _publish_decision(state, runtime, decision)
        return Command(goto="__end__", update={"decision": decision, "status": "skipped"})
    samples = await InterventionBandit(store, deps.rng).sample(
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
    await _publish_decision(state, runtime, decision)
    if action == "skip":
        return Command(goto="__end__", update={"decision": decision, "status": "skipped"})
    return Command(goto="approval_gate", update={"decision": decision, "status": "decided"})


async def _publish_decision(
    state: EngagementState, runtime: Runtime[EngagementContext], decision: dict[str, Any]
) -> None:
    deps = runtime.context.deps
    telemetry.record_decision(
        decision["action"], decision["confidence"], deps.clock.time() - state.started_at
    )
    await deps.publisher.organizer(runtime.context.event_id, {"type": "decision", **decision})


async def approval_gate(
    state: EngagementState, runtime: Runtime[EngagementContext]
) -> Command[Literal["act", "__end__"]]:
    """Pass an `execute` decision; otherwise pause for the organizer's verdict."""
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
    await runtime.context.deps.publisher.organizer(
        runtime.context.event_id,
        {**decision, "type": "decision", "action": "skip", "reasoning": f"Skipped: {reason}."},
    )
    return Command(goto="__end__", update={"approval": status, "status": status})


async def act(
    state: EngagementState, runtime: Runtime[EngagementContext]
) -> Command[Literal["measure_outcome", "__end__"]]:
    """Write, record, then deliver the intervention; at most once per decision id."""
    ctx, store, deps = runtime.context, _store(runtime), runtime.context.deps
    decision = state.decision or {}
    kind: policy.InterventionType = decision["intervention_type"]
    existing = await interventions.recorded(store, ctx.event_id, decision["id"])
    if existing is None:
        now = deps.clock.time()
        event = await load_event_settings(store, ctx.event_id, deps.settings)
        history = await interventions.history(store, ctx.event_id)
        # Checked again: an approval may have come after another session's
        # intervention took the cooldown or the hourly cap.
        reason = policy.limit_reason(
            history, kind, now, event.cooldowns, event.max_interventions_per_hour
        )
        if reason:
            await deps.publisher.organizer(
                ctx.event_id,
                {
                    **decision,
                    "type": "decision",
                    "action": "skip",
                    "reasoning": f"Skipped after approval: {reason}.",
                },
            )
            return Command(goto="__end__", update={"status": "skipped"})
        content, source = await deps.writer.write(kind, _facts(state, runtime), seed=state.cycles)
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
        store, ctx.event_id, {"id": intervention["id"], "type": kind, "at": at}, deps.clock.time()
    )
    delivered = await interventions.deliver_once(store, deps.publisher, ctx.event_id, intervention)
    record = {k: v for k, v in delivered.items() if k not in ("delivered", "learned")}
    return Command(goto="measure_outcome", update={"intervention": record, "status": "executed"})


async def measure_outcome(
    state: EngagementState, runtime: Runtime[EngagementContext]
) -> Command[Literal["learn"]]:
    """Pause until the outcome is due; resumed with the session's score then."""
    settings = runtime.context.deps.settings
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
    # Against the level when the intervention was executed when the answer has it:
    # the score at detection may be minutes old after an approval.
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


async def learn(state: EngagementState, runtime: Runtime[EngagementContext]) -> dict[str, Any]:
    """Add the outcome to the bandit's posterior, once per intervention."""
    deps = runtime.context.deps
    outcome = dict(state.outcome or {})
    kind = outcome["intervention_type"]
    store, event_id = _store(runtime), runtime.context.event_id
    bandit = InterventionBandit(store, deps.rng)
    async with deps.event_lock(event_id):
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
    await deps.publisher.organizer(event_id, {"type": "outcome", **outcome})
    return {"outcome": outcome, "status": "learned"}
