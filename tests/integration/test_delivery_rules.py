"""Delivery of outbox rows through a scripted Graph client, on SQLite.

The client here answers each send from a script (a wamid or an error), so retries,
give-ups, backoff and ordering are checked exactly; the real client against a Graph
API sink is exercised by test_outbox_statuses.py and the WhatsApp e2e tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentgraph.persistence import open_domain
from agentgraph.runtime import delivery as delivery_module
from agentgraph.runtime.delivery import MAX_BACKOFF_SECONDS, Delivery, callback_data
from agentgraph.runtime.inbox import Inbox, InboxEntry
from agentgraph.runtime.outbox import Outbox
from agentgraph.whatsapp.client import GraphUnavailable, OutsideWindow
from agentgraph.whatsapp.inbound import InboundMessage

THREAD = "wa:easymo:+972500000001"


class ScriptedClient:
    """Answers sends in order from `script`: a string is the wamid, an exception is raised."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, dict[str, Any], str | None, str | None]] = []

    async def send(self, to, message, *, phone_number_id=None, callback_data=None):
        self.sent.append((to, message, phone_number_id, callback_data))
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
async def outbox(sqlite_settings):
    async with open_domain(sqlite_settings) as domain:
        yield Outbox(domain.db)


async def _rows(outbox: Outbox, n: int, orphan: float = 30.0) -> list[int]:
    message = InboundMessage(
        id="m1", phone_number_id="1122334455667", wa_id="972500000001", kind="text", text="hi"
    )
    await Inbox(outbox._db).add_many([InboxEntry("easymo", THREAD, message)])
    turn = await outbox.commit_turn(
        thread_id=THREAD,
        recipient="972500000001",
        phone_number_id="1122334455667",
        inbound_ids=["m1"],
        messages=[{"type": "text", "text": {"body": str(i)}} for i in range(n)],
        orphan_after_seconds=orphan,
    )
    return turn.ids


def test_backoff_doubles_per_attempt_up_to_a_minute(monkeypatch):
    spreads = []

    def uniform(low, high):
        spreads.append((low, high))
        return 1.0

    monkeypatch.setattr(delivery_module.random, "uniform", uniform)
    sender = Delivery(Outbox(None), None, backoff_seconds=0.5)  # type: ignore[arg-type]
    assert [sender.backoff(n) for n in (0, 1, 2, 3, 4)] == [0.5, 0.5, 1.0, 2.0, 4.0]
    assert sender.backoff(30) == MAX_BACKOFF_SECONDS == 60.0
    assert spreads[0] == (0.8, 1.2)
    monkeypatch.setattr(delivery_module.random, "uniform", lambda low, high: high)
    assert sender.backoff(2) == pytest.approx(1.2)


def test_every_send_carries_its_row_id():
    assert callback_data(42) == "outbox:42"


async def test_without_a_client_rows_stay_on_this_machine(outbox):
    ids = await _rows(outbox, 2)
    await Delivery(outbox, None).deliver(ids)
    rows = [await outbox.get(i) for i in ids]
    assert [(r.status, r.wamid, r.attempts) for r in rows] == [("dev", None, 1), ("dev", None, 1)]


async def test_rows_are_sent_in_order_with_their_row_id(outbox):
    ids = await _rows(outbox, 2)
    client = ScriptedClient("wamid.0", "wamid.1")
    await Delivery(outbox, client).deliver(ids)  # type: ignore[arg-type]
    assert [(to, m["text"]["body"], pn, cb) for to, m, pn, cb in client.sent] == [
        ("972500000001", "0", "1122334455667", f"outbox:{ids[0]}"),
        ("972500000001", "1", "1122334455667", f"outbox:{ids[1]}"),
    ]
    rows = [await outbox.get(i) for i in ids]
    assert [(r.status, r.wamid) for r in rows] == [("sent", "wamid.0"), ("sent", "wamid.1")]
    # Delivered rows are not sent again.
    await Delivery(outbox, client).deliver(ids)  # type: ignore[arg-type]
    assert len(client.sent) == 2


async def test_a_retryable_error_is_retried_before_later_rows_go(outbox):
    ids = await _rows(outbox, 2)
    client = ScriptedClient(GraphUnavailable("down", http_status=503), "wamid.0", "wamid.1")
    sender = Delivery(outbox, client, backoff_seconds=0.01)  # type: ignore[arg-type]
    await sender.deliver(ids)
    assert [cb for *_, cb in client.sent] == [
        f"outbox:{ids[0]}",
        f"outbox:{ids[0]}",
        f"outbox:{ids[1]}",
    ]
    first = await outbox.get(ids[0])
    assert (first.status, first.wamid, first.attempts, first.error) == ("sent", "wamid.0", 2, None)


async def test_a_row_failing_its_last_attempt_is_given_up(outbox):
    (row_id,) = await _rows(outbox, 1)
    busy = GraphUnavailable("still down", code=2, http_status=503)
    client = ScriptedClient(busy, busy)
    sender = Delivery(outbox, client, max_attempts=2, backoff_seconds=0.01)  # type: ignore[arg-type]
    await sender.deliver([row_id])
    row = await outbox.get(row_id)
    assert (len(client.sent), row.status, row.attempts) == (2, "failed", 2)
    assert (row.error_code, row.error) == (2, "still down")


async def test_a_final_error_fails_the_row_at_once(outbox):
    (row_id,) = await _rows(outbox, 1)
    client = ScriptedClient(OutsideWindow("window closed", code=131047, http_status=400))
    await Delivery(outbox, client, backoff_seconds=0.01).deliver([row_id])  # type: ignore[arg-type]
    row = await outbox.get(row_id)
    assert (len(client.sent), row.status, row.error_code, row.error) == (
        1,
        "failed",
        131047,
        "window closed",
    )


async def test_a_retry_is_scheduled_by_the_backoff(outbox, monkeypatch):
    (row_id,) = await _rows(outbox, 1)
    monkeypatch.setattr(delivery_module.time, "time", lambda: 1_000.0)
    client = ScriptedClient(GraphUnavailable("down", http_status=503))
    sender = Delivery(outbox, client, backoff_seconds=8.0)  # type: ignore[arg-type]
    monkeypatch.setattr(sender, "backoff", lambda attempts: 8.0 * attempts)
    row = await outbox.claim(row_id)
    assert await sender._attempt(row) == 1_008.0
    stored = await outbox.get(row_id)
    assert (stored.status, stored.error) == ("pending", "down")
    due = await outbox._db.fetchval("SELECT next_attempt_at FROM wa_outbox WHERE id = ?", [row_id])
    assert due == 1_008.0


async def test_sweep_sends_due_rows_and_counts_them(outbox):
    ids = await _rows(outbox, 2, orphan=3_600)
    client = ScriptedClient("wamid.0", "wamid.1")
    sender = Delivery(outbox, client)  # type: ignore[arg-type]
    assert await sender.sweep() == 0
    assert client.sent == []
    assert await sender.sweep(everything=True) == 2
    assert [(await outbox.get(i)).status for i in ids] == ["sent", "sent"]
    assert await sender.sweep(everything=True) == 0


async def test_sweep_rescues_a_dead_senders_row(outbox):
    (row_id,) = await _rows(outbox, 1, orphan=0)
    await outbox.claim(row_id)
    client = ScriptedClient("wamid.0")
    sender = Delivery(outbox, client, stale_after_seconds=-5)  # type: ignore[arg-type]
    assert await sender.sweep() == 1
    row = await outbox.get(row_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert await Delivery(outbox, client, stale_after_seconds=60).sweep() == 0  # type: ignore[arg-type]


async def test_sweep_skips_a_row_another_worker_took_meanwhile(outbox, monkeypatch):
    (row_id,) = await _rows(outbox, 1, orphan=0)
    await outbox.claim(row_id)

    async def stale_listing(**_):
        return [row_id]

    monkeypatch.setattr(outbox, "due", stale_listing)
    client = ScriptedClient()
    assert await Delivery(outbox, client).sweep() == 0  # type: ignore[arg-type]
    assert client.sent == []
