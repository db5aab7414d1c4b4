"""The runtime context of one conductor run: which event session, and what it works with.

The server sets `event_id` and `session_id` from the session that raised the anomaly
and passes its own `deps` (`ConductorDeps`). LangGraph Studio sends a plain dict of
the two ids (both default to a demo event and session, so an empty context runs
too); its runs get `standalone_deps()`, built once per process from the settings.
`deps` is hidden from the context's JSON schema, so Studio shows only the two ids.
The thread id of a run is always `agentgraph.threads.event_thread_id(event_id, session_id)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic.json_schema import SkipJsonSchema

from agentgraph.engagement.conductor.deps import ConductorDeps, standalone_deps


@dataclass(kw_only=True)
class EngagementContext:
    """Per-run facts and collaborators for the conductor graph."""

    event_id: str = field(
        default="studio-event", metadata={"description": "The live event the session belongs to."}
    )
    session_id: str = field(
        default="studio-session", metadata={"description": "The session that raised the anomaly."}
    )
    deps: SkipJsonSchema[ConductorDeps] = field(
        default_factory=standalone_deps, repr=False, compare=False
    )
