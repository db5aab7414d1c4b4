"""LangSmith traces that carry metadata, not personal data.

`Tracing.from_settings(settings)` is off unless `LANGSMITH_TRACING` is true. When on,
`tracing.config(graph, thread_id, metadata, tags)` gives a graph run its LangSmith
shape: the root run is named after the graph (`assistant`, `engagement`) and tagged with
it. The assistant's turns add the tags `channel:*` and `tenant:*` and the metadata
`tenant_id`, `channel`, `agent`, `user` (the conversation's pseudonym, never a phone
number) and `turn`; the conductor's cycles `event_id` and `session_id`. The run's tracer
uploads through our own client, whose anonymizer passes every string of inputs, outputs,
errors and metadata through the same masking as the logs (phone numbers, emails, tokens)
before it leaves the process; `AGENTGRAPH_TRACE_MASKING=false` turns that off for
private deployments. A confirmation pause (LangGraph's `GraphInterrupt`, which travels
as an exception) ends its runs normally with the pause as output instead of recording
them as errors.

Passing the tracer in the run's callbacks is what keeps LangChain from adding its own
unmasked one: it adds a tracer from the environment only when none is present.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.langchain import LangChainTracer
from langgraph.errors import GraphBubbleUp
from langsmith import Client
from langsmith.anonymizer import create_anonymizer
from pydantic import SecretStr

from agentgraph.observability.logging import mask_text

log = logging.getLogger(__name__)

__all__ = ["NO_TRACING", "PausingTracer", "TraceSettings", "Tracing", "trace_anonymizer"]


class TraceSettings(Protocol):
    """The settings tracing reads (`agentgraph.config.Settings` has them all)."""

    @property
    def langsmith_tracing(self) -> bool: ...  # noqa: D102
    @property
    def langsmith_endpoint(self) -> str | None: ...  # noqa: D102
    @property
    def langsmith_api_key(self) -> SecretStr | None: ...  # noqa: D102
    @property
    def langsmith_project(self) -> str | None: ...  # noqa: D102
    @property
    def trace_masking(self) -> bool: ...  # noqa: D102


def trace_anonymizer() -> Callable[[Any], Any]:
    """Masks every string of a run's data (at any depth) the way log lines are masked."""
    return create_anonymizer(lambda value, _path: mask_text(value), max_depth=64)


def _paused(error: BaseException) -> dict[str, Any] | None:
    """The output a paused run ends with, or None when `error` is a real failure."""
    if not isinstance(error, GraphBubbleUp):
        return None
    interrupts = getattr(error, "args", ())
    return {"paused": type(error).__name__, "interrupts": [repr(i) for i in interrupts]}


class PausingTracer(LangChainTracer):
    """A LangSmith tracer that records a LangGraph pause (interrupt, parent command) as
    a normal end of the runs it passes through, not as their error."""

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """End the run normally when `error` is a pause; otherwise record the error."""
        paused = _paused(error)
        if paused is None:
            return super().on_chain_error(
                error, run_id=run_id, parent_run_id=parent_run_id, **kwargs
            )
        return self.on_chain_end(paused, run_id=run_id, parent_run_id=parent_run_id, **kwargs)

    def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """End the tool run normally when `error` is a pause; otherwise record it."""
        paused = _paused(error)
        if paused is None:
            return super().on_tool_error(
                error, run_id=run_id, parent_run_id=parent_run_id, **kwargs
            )
        return self.on_tool_end(paused, run_id=run_id, parent_run_id=parent_run_id, **kwargs)


@dataclass(frozen=True)
class Tracing:
    """How graph runs of this process are traced (`tracer` is None when tracing is off)."""

    tracer: LangChainTracer | None = None

    @classmethod
    def from_settings(cls, settings: TraceSettings) -> Tracing:
        """Tracing as the settings ask: off, on with masking (default), or on unmasked."""
        if not settings.langsmith_tracing:
            return cls()
        key = settings.langsmith_api_key
        client = Client(
            api_url=settings.langsmith_endpoint,
            api_key=key.get_secret_value() if key is not None else None,
            anonymizer=trace_anonymizer() if settings.trace_masking else None,
        )
        if not settings.trace_masking:
            log.warning("LangSmith traces are NOT masked (AGENTGRAPH_TRACE_MASKING=false)")
        return cls(PausingTracer(client=client, project_name=settings.langsmith_project))

    def config(
        self, graph: str, thread_id: str, metadata: dict[str, Any], tags: Sequence[str] = ()
    ) -> RunnableConfig:
        """The run config of one run of `graph`: its thread and, when tracing is on, the
        root run's name (the graph's), tags (the graph's name, then `tags`), metadata
        and the masked tracer. Nothing in `metadata` or `tags` may name a person by
        phone number or email: callers pass pseudonyms."""
        if self.tracer is None:
            # Nothing reads the rest: keep checkpoints and runs as lean as untraced.
            return {"configurable": {"thread_id": thread_id}}
        return {
            "configurable": {"thread_id": thread_id},
            "run_name": graph,
            "tags": [graph, *tags],
            "metadata": dict(metadata),
            "callbacks": [self.tracer],
        }

    def flush(self) -> None:
        """Wait until every finished run is uploaded (blocking: from an event loop use
        `aflush`, or a LangSmith endpoint served by that loop could never answer)."""
        if self.tracer is not None:
            self.tracer.wait_for_futures()
            self.tracer.client.flush()

    async def aflush(self) -> None:
        """`flush` in a worker thread, so the event loop keeps running meanwhile."""
        if self.tracer is not None:
            await asyncio.to_thread(self.flush)


NO_TRACING = Tracing()
