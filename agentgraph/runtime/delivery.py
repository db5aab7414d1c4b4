"""Sending outbox rows through the Graph API with retries, or to the dev outbox.

`Delivery.deliver(ids)` sends rows one after another in the given order (a turn's
replies keep their order), retrying 429/5xx answers with exponential backoff up to
the configured attempts; other 4xx answers (131047 outside the 24-hour window,
invalid recipient, ...) mark the row failed at once. Without a Graph client (no
`WHATSAPP_ACCESS_TOKEN`) rows are marked `dev` instead: they stay readable at
`GET /dev/outbox` and nothing leaves the machine. `sweep()` retries due rows and
rescues rows whose sender died mid-send. Each attempt runs in a `send` span
(`agentgraph.runtime.spans`) that records its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence

from agentgraph.faults import NO_FAULTS, Faults
from agentgraph.observability import otel
from agentgraph.runtime.channel_metrics import OUTBOUND
from agentgraph.runtime.outbox import Outbox, OutboxRow
from agentgraph.runtime.spans import send_span
from agentgraph.whatsapp.client import GraphAPIError, GraphClient

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0


def callback_data(row_id: int) -> str:
    """The `biz_opaque_callback_data` a send of outbox row `row_id` carries."""
    return f"outbox:{row_id}"


class Delivery:
    """Sends outbox rows; one per process, shared by its worker tasks."""

    def __init__(
        self,
        outbox: Outbox,
        client: GraphClient | None,
        *,
        max_attempts: int = 6,
        backoff_seconds: float = 0.5,
        stale_after_seconds: float = 60.0,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.stale_after_seconds = stale_after_seconds
        self.faults = faults

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after a row's `attempts`-th failed send: `backoff_seconds` doubled
        per earlier attempt, capped at 60 s, times a random 0.8-1.2 so that rows failing
        together do not retry together."""
        # 2.0, not 2: typeshed types int ** int as Any (a negative exponent gives a float).
        base = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2.0 ** max(attempts - 1, 0))
        return base * random.uniform(0.8, 1.2)

    async def _attempt(self, row: OutboxRow) -> float | None:
        """One send; returns the retry time when the row should be tried again."""
        with send_span(row, dev=self.client is None):
            return await self._send(row)

    async def _send(self, row: OutboxRow) -> float | None:
        if self.client is None:
            await self.outbox.mark_sent(row.id, None, status="dev")
            OUTBOUND.labels("dev").inc()
            otel.annotate(send_outcome="dev")
            return None
        try:
            wamid = await self.client.send(
                row.recipient,
                row.payload,
                phone_number_id=row.phone_number_id,
                callback_data=callback_data(row.id),
            )
        except GraphAPIError as exc:
            otel.mark_error(exc)
            otel.annotate(graph_error_code=exc.code, graph_http_status=exc.http_status)
            if exc.retryable and row.attempts < self.max_attempts:
                retry_at = time.time() + self.backoff(row.attempts)
                await self.outbox.mark_retry(row.id, retry_at, str(exc))
                OUTBOUND.labels("retry").inc()
                otel.annotate(send_outcome="retry")
                log.warning("send %s will be retried: %s", row.idempotency_key, exc)
                return retry_at
            await self.outbox.mark_failed(row.id, exc.code, str(exc))
            OUTBOUND.labels("failed").inc()
            otel.annotate(send_outcome="failed")
            log.error("send %s failed: %s", row.idempotency_key, exc)
            return None
        self.faults.point("after_send")
        await self.outbox.mark_sent(row.id, wamid)
        OUTBOUND.labels("sent").inc()
        otel.annotate(send_outcome="sent")
        return None

    async def deliver(self, ids: Sequence[int]) -> None:
        """Send rows in order, waiting out retries so later rows never overtake."""
        for row_id in ids:
            while True:
                row = await self.outbox.claim(row_id)
                if row is None:
                    break
                retry_at = await self._attempt(row)
                if retry_at is None:
                    break
                await asyncio.sleep(max(0.0, retry_at - time.time()))

    async def sweep(self, *, everything: bool = False) -> int:
        """Send due rows once (retries, a dead worker's rows); returns how many.

        `everything` also takes rows not yet due (at process start-up)."""
        await self.outbox.release_stale(self.stale_after_seconds)
        ids = await self.outbox.due(everything=everything)
        sent = 0
        for row_id in ids:
            row = await self.outbox.claim(row_id)
            if row is not None:
                await self._attempt(row)
                sent += 1
        return sent
