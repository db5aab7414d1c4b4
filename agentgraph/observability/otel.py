"""OpenTelemetry spans of the WhatsApp path and the conductor, exported over OTLP/HTTP.

`open_otel(settings)` is entered once per process by its entry point (the server's
lifespan, `agentgraph worker`). With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set it builds a `TracerProvider` (resource
`service.name` from `OTEL_SERVICE_NAME`) whose `BatchSpanProcessor` hands finished
spans to the SDK's own OTLP/HTTP protobuf exporter; on exit it flushes and shuts the
pipeline down in a worker thread, so an endpoint served by the same event loop can
still answer. Unset, nothing is built: `span()` yields None without touching the
context, no exporter thread starts and nothing leaves the process.

The provider is this module's, not OpenTelemetry's global one: frameworks that trace
through the global provider (FastAPI's native request spans, LangSmith's OTel mode)
stay off unless configured on their own, so every exported span is one of ours and
carries only what its call site chose: counts, kinds, tenant slugs, pseudonymous
thread ids, outcomes and exception type names, never a phone number or a message
text. The other standard `OTEL_*` variables the SDK reads (headers, timeout,
compression, `OTEL_BSP_*`, the sampler) apply as documented by OpenTelemetry.

Context crosses processes as a W3C `traceparent` string: `traceparent()` reads the
current span's, `remote(traceparent)` turns one back into a parent context and
`link(traceparent)` into a span link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from typing import Protocol

from langgraph.errors import GraphBubbleUp
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

__all__ = [
    "NEW_TRACE",
    "Attributes",
    "Span",
    "SpanKind",
    "annotate",
    "link",
    "mark_error",
    "open_otel",
    "otel_enabled",
    "remote",
    "span",
    "traceparent",
    "traces_endpoint",
]

log = logging.getLogger(__name__)

Attributes = dict[str, AttributeValue]

_W3C = TraceContextTextMapPropagator()
NEW_TRACE = Context()
"""A `parent` for `span()` that starts a new trace, whatever span is current."""
# The process's tracer while `open_otel` is entered with an endpoint; None otherwise.
# One per process, like the logging configuration: call sites deep in the runtime
# open spans without a tracer handed down through every constructor.
_tracer: Tracer | None = None


class OtelSettings(Protocol):
    """The settings `open_otel` reads (`agentgraph.config.Settings` has them all)."""

    @property
    def otel_exporter_otlp_endpoint(self) -> str | None: ...
    @property
    def otel_exporter_otlp_traces_endpoint(self) -> str | None: ...
    @property
    def otel_service_name(self) -> str: ...


def traces_endpoint(settings: OtelSettings) -> str | None:
    """Where spans are posted: the traces endpoint as given, else the base endpoint plus
    `/v1/traces` (as the OTLP specification says), else None (export off)."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def otel_enabled() -> bool:
    """True while spans are recorded and exported (`open_otel` entered with an endpoint)."""
    return _tracer is not None


@asynccontextmanager
async def open_otel(settings: OtelSettings) -> AsyncIterator[TracerProvider | None]:
    """Record and export spans for the life of the block when an endpoint is configured;
    yields the provider (None when export is off). Nested or repeated use in one process
    (tests) restores the previous tracer on exit."""
    global _tracer
    endpoint = traces_endpoint(settings)
    if endpoint is None:
        yield None
        return
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.otel_service_name}),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    previous, _tracer = _tracer, provider.get_tracer("agentgraph")
    log.info("OpenTelemetry spans exported to %s", endpoint)
    try:
        yield provider
    finally:
        _tracer = previous
        # Blocking (an HTTP post per batch): off the loop, which may serve the endpoint.
        await asyncio.to_thread(_close, provider)


def _close(provider: TracerProvider) -> None:
    try:
        provider.force_flush()
    finally:
        provider.shutdown()


def span(
    name: str,
    attributes: Attributes | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Context | None = None,
    links: Sequence[Link] = (),
) -> AbstractContextManager[Span | None]:
    """A span named `name`, current inside the block (children and `traceparent()` see
    it), child of `parent` when given, else of the current span. An exception leaving
    the block sets status ERROR with the exception's type name only (its message may
    quote a user; a LangGraph pause is no error) and is re-raised. Yields None when
    export is off, through one shared do-nothing context manager."""
    tracer = _tracer
    if tracer is None:
        return _NO_SPAN
    return _recording(tracer, name, attributes, kind, parent, links)


_NO_SPAN: AbstractContextManager[None] = nullcontext()


@contextmanager
def _recording(
    tracer: Tracer,
    name: str,
    attributes: Attributes | None,
    kind: SpanKind,
    parent: Context | None,
    links: Sequence[Link],
) -> Iterator[Span]:
    with tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=attributes,
        links=links,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except Exception as exc:
            # A LangGraph pause (interrupt, parent command) travels as an exception.
            if not isinstance(exc, GraphBubbleUp):
                _error(current, exc)
            raise


def annotate(**attributes: AttributeValue | None) -> None:
    """Set attributes on the current span (`agentgraph.` is prefixed to each name, None
    values are left out); nothing when no span of ours is recording."""
    if _tracer is None:
        return
    current = get_current_span()
    if current.is_recording():
        current.set_attributes(
            {f"agentgraph.{k}": v for k, v in attributes.items() if v is not None}
        )


def mark_error(exc: BaseException) -> None:
    """Mark the current span failed with `exc`'s type name (a failure the code handled,
    such as a turn answered with an apology); nothing when no span is recording."""
    if _tracer is None:
        return
    current = get_current_span()
    if current.is_recording():
        _error(current, exc)


def _error(current: Span, exc: BaseException) -> None:
    name = type(exc).__name__
    current.set_status(Status(StatusCode.ERROR, name))
    current.set_attribute("error.type", name)


def traceparent() -> str | None:
    """The current span's W3C `traceparent`, to carry across a queue; None when export
    is off or no span is current."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def remote(value: str | None) -> Context | None:
    """The parent context a `traceparent` names; None for None or a malformed value."""
    if not value or _tracer is None:
        return None
    context = _W3C.extract({"traceparent": value})
    return context if get_current_span(context).get_span_context().is_valid else None


def link(value: str) -> Link | None:
    """A link to the span a `traceparent` names; None when it is malformed."""
    context = remote(value)
    return Link(get_current_span(context).get_span_context()) if context is not None else None
