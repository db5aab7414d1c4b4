"""The engagement conductor graph: perceive -> decide -> approval_gate -> act ->
measure_outcome -> learn, one thread per event session (`event:{event}:{session}`).

`build_engagement_graph()` returns an *uncompiled* `StateGraph`; compile it with a
checkpointer and a store (the bandit posteriors, event settings and the intervention
ledger live in the store). The nodes are in `nodes.py`; what they work with (settings,
publisher, content writer, clock, draws, event lock) comes with each run's context
(`EngagementContext.deps`, see `deps.py`). Each run starts from one anomaly
(`EngagementInput`; an input without an anomaly type or a snapshot is refused with a
ValueError naming what is missing) and pauses twice at most with `interrupt()`:

- `{"kind": "approval", "id", "deadline", ...}` when the mode asks the organizer;
  resume with `{"decision": "approve" | "reject" | "timeout"}`;
- `{"kind": "outcome", "id", "due", ...}` after an intervention; resume at `due`
  with `{"score": <session score then>}`.

The decision needs no model (rule table + Thompson sampling); the model, when given,
only writes content. An intervention is recorded before it enters the event history
and before delivery, so a run resumed after a crash never delivers it twice nor
blocks it with its own cooldown (`agentgraph.engagement.delivery.interventions`). The
outcome answer may carry `before`, the session's level when the intervention was
executed; the reward compares against it (else against the score at detection).
Learning happens once per intervention, under `deps.event_lock(event_id)` (default:
an in-process lock).
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agentgraph.engagement.conductor.context import EngagementContext
from agentgraph.engagement.conductor.nodes import (
    act,
    approval_gate,
    decide,
    learn,
    measure_outcome,
    perceive,
)
from agentgraph.engagement.conductor.state import EngagementInput, EngagementState


def build_engagement_graph() -> StateGraph[
    EngagementState, EngagementContext, EngagementInput, EngagementState
]:
    """The conductor graph, uncompiled (see the module docstring)."""
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
