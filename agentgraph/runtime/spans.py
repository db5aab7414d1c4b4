"""The OpenTelemetry spans of the WhatsApp channel's turns and sends, and what they show.

A `turn` span covers one batch of a conversation's inbound messages (one message, or
several merged by the debounce window): the conversation policy, the assistant's
graph run (its `tool` spans are children), the outbox commit and the delivery of the
replies (`send` spans). It names the tenant, the channel and the thread by its
pseudonymous id (`wa:{tenant}:{pseudonym}`, as checkpoints and LangSmith do), and
counts messages by kind; no phone number or message text. A `send` span is one
attempt to send one outbox row, with its outcome (`sent`, `dev`, `retry`, `failed`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager

from agentgraph.observability import otel
from agentgraph.observability.otel import Span, SpanKind
from agentgraph.runtime.inbox import InboxRow
from agentgraph.runtime.outbox import OutboxRow


def turn_span(batch: Sequence[InboxRow]) -> AbstractContextManager[Span | None]:
    """The span of the turn that answers `batch` (rows of one conversation)."""
    if not otel.otel_enabled():
        return otel.span("turn")
    first = batch[0]
    attributes: otel.Attributes = {
        "agentgraph.tenant": first.tenant,
        "agentgraph.channel": "whatsapp",
        "agentgraph.thread_id": first.thread_id,
        "agentgraph.turn.messages": len(batch),
    }
    for kind, count in Counter(row.kind for row in batch).items():
        attributes[f"agentgraph.turn.kind.{kind}"] = count
    return otel.span("turn", attributes)


def send_span(row: OutboxRow, *, dev: bool) -> AbstractContextManager[Span | None]:
    """The span of one send attempt of outbox row `row` (`dev`: kept in the dev outbox)."""
    if not otel.otel_enabled():
        return otel.span("send")
    return otel.span(
        "send",
        {
            "agentgraph.outbox.id": row.id,
            "agentgraph.outbox.attempt": row.attempts,
            "agentgraph.send.kind": row.kind,
            "agentgraph.send.dev": dev,
        },
        kind=SpanKind.CLIENT,
    )
