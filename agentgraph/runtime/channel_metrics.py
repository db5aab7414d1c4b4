"""Metrics of the WhatsApp channel, registered on agentgraph's one `REGISTRY`.

Webhook requests by outcome, acknowledgement latency, inbound messages by kind,
dedup hits, queue depth and outbound sends by status. Turn latency and tokens/cost
by agent and model are in `agentgraph.observability.metrics`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from agentgraph.observability.metrics import REGISTRY

WEBHOOK_REQUESTS = Counter(
    "agentgraph_webhook_requests_total",
    "WhatsApp webhook requests by outcome "
    "(ok, unauthorized, forbidden, too_large, invalid, error).",
    ["outcome"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "agentgraph_webhook_ack_seconds",
    "Time from receiving a webhook POST to answering it.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
    registry=REGISTRY,
)
INBOUND = Counter(
    "agentgraph_inbound_messages_total",
    "New inbound WhatsApp messages by kind (duplicates excluded).",
    ["kind"],
    registry=REGISTRY,
)
DEDUP_HITS = Counter(
    "agentgraph_dedup_hits_total",
    "Inbound messages dropped because their id was already received.",
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "agentgraph_queue_depth",
    "Inbound messages received but not yet answered.",
    registry=REGISTRY,
)
OUTBOUND = Counter(
    "agentgraph_outbound_messages_total",
    "Outbound send attempts by result (sent, dev, retry, failed).",
    ["status"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "agentgraph_webhook_rejected_updates_total",
    "Updates of a webhook body that could not be read and were dropped (by kind: message, "
    "status, error); the rest of the body is answered.",
    ["kind"],
    registry=REGISTRY,
)
