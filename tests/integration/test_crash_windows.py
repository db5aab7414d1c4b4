"""Crashes at every point of a turn: effects once, replies once, order kept.

A WhatsApp conversation runs a money flow (a transfer, a booking, a cancellation:
each a question, then "yes"). One of its two messages is processed by a process
that dies at a crash point (`agentgraph.faults`, raise mode, so the test survives
it): right after the money moved, after the turn's final checkpoint, after the
outbox commit, or after Meta accepted a send. A fresh process (new assistant and
channel on the same database) then recovers the way a restarted worker does. The
user must get every reply exactly once and in order, and the money must have moved
exactly once. A database connection dropped in the commit window
(`pg_terminate_backend`) is tried the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from agentgraph.config import Settings
from agentgraph.domain import seed_demo
from agentgraph.faults import SimulatedCrash
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import WhatsAppChannel, open_whatsapp_channel
from agentgraph.whatsapp.payloads import parse_webhook
from tests.conftest import ADMIN_URL
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import PHONE_NUMBER_ID, button_reply, text_message, webhook

pytestmark = pytest.mark.slow

WA_ID = "250788000001"
USER = "+" + WA_ID


async def thread_of(channel) -> str:
    """The conversation's thread id (it names the user by pseudonym)."""
    return await channel.assistant.thread_id("whatsapp", "easymo", USER)


POINTS = ["after_effect", "after_checkpoint", "after_commit", "after_send"]


@pytest.fixture
async def sink() -> AsyncIterator[GraphApiSink]:
    graph = GraphApiSink()
    async with live_server(graph.app) as url:
        graph.url = url  # type: ignore[attr-defined]
        yield graph


def _settings(base: Settings, sink: GraphApiSink, **overrides: Any) -> Settings:
    return base.model_copy(
        update={
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_access_token": SecretStr("sink-token"),
            "whatsapp_api_base_url": f"{sink.url}/v21.0",  # type: ignore[attr-defined]
            "debounce_seconds": 0.0,
            "outbox_backoff_seconds": 0.01,
            # A dead worker's rows are swept at once by the recovering process.
            "queue_claim_idle_seconds": 0.0,
            **overrides,
        }
    )


@asynccontextmanager
async def process(settings: Settings) -> AsyncIterator[WhatsAppChannel]:
    """One 'process': its own assistant (offline model) and channel."""
    async with (
        open_assistant(settings) as assistant,
        open_whatsapp_channel(settings, assistant) as channel,
    ):
        yield channel


async def deliver(channel: WhatsAppChannel, message: dict[str, Any]) -> None:
    await channel.ingest(parse_webhook(webhook([message])))
    await channel.process_thread(await thread_of(channel))


async def recover(channel: WhatsAppChannel) -> None:
    """What a restarted worker does: release dead sends, re-run queued messages."""
    await channel.delivery.sweep(everything=True)
    await channel.process_thread(await thread_of(channel))
    await channel.delivery.sweep(everything=True)


async def _trip(channel: WhatsAppChannel) -> int:
    trips = await channel.assistant.persistence.domain.trips.search(
        "easymo", "Kigali", "Huye", None
    )
    return trips[0].id


async def _booking(channel: WhatsAppChannel) -> int:
    domain = channel.assistant.persistence.domain
    booking = await domain.bookings.create("easymo", USER, await _trip(channel), 1, "setup")
    return booking.id


FLOWS: dict[str, tuple[Callable[[int], str], str]] = {
    # name: (first message given the setup id, the reply that shows the effect)
    "transfer": (lambda _: "send 5000 to 0788000002", "Done: sent 5,000 RWF"),
    "booking": (lambda trip: f"book trip {trip}", "Booked: booking"),
    "cancellation": (lambda booking: f"cancel booking {booking}", "Cancelled booking"),
}


async def _effects(channel: WhatsAppChannel) -> tuple[int, int]:
    domain = channel.assistant.persistence.domain
    active = [b for b in await domain.bookings.list_for("easymo", USER)]
    return await domain.wallets.balance("easymo", USER), len(active)


# The question's turn moves no money, so it has no `after_effect` point.
CASES = [
    (flow, step, point)
    for flow in FLOWS
    for step in ("question", "yes")
    for point in POINTS
    if not (step == "question" and point == "after_effect")
]


@pytest.mark.parametrize(("flow", "step", "point"), CASES)
async def test_a_crash_at_any_point_moves_money_once_and_answers_once(
    flow, step, point, sqlite_settings, sink
):
    await _run_flow(flow, step, point, sqlite_settings, sink)


@pytest.mark.parametrize("point", ["after_effect", "after_checkpoint"])
@pytest.mark.parametrize("flow", list(FLOWS))
async def test_the_same_on_postgres(flow, point, pg_settings, sink):
    await _run_flow(flow, "yes", point, pg_settings, sink)


async def _run_flow(flow: str, step: str, point: str, base: Settings, sink: GraphApiSink) -> None:
    settings = _settings(base, sink)
    first, effect = FLOWS[flow]
    async with process(settings) as channel:
        await seed_demo(channel.assistant.persistence.domain)
        setup = await _booking(channel) if flow == "cancellation" else await _trip(channel)
        before = await _effects(channel)
        question = text_message(first(setup), wa_id=WA_ID, mid="wamid.q")
        if step == "yes":
            await deliver(channel, question)
    crashing = _settings(base, sink, crash_at=point, crash_mode="raise")
    message = question if step == "question" else button_reply("yes", "Yes", wa_id=WA_ID)
    async with process(crashing) as channel:
        with pytest.raises(SimulatedCrash):
            await deliver(channel, message)
    async with process(settings) as channel:
        if point == "after_send":
            # Meta accepted the send the dead process never recorded, and reports it
            # (tests/integration/test_outbox_statuses.py covers a missing report).
            await _report_sent(channel, sink)
        await recover(channel)
        if step == "question":
            await deliver(channel, button_reply("yes", "Yes", wa_id=WA_ID))
        after = await _effects(channel)

    texts = sink.texts(WA_ID)
    asked = [t for t in texts if t.endswith("?") or "?" in t.split("\n")[0]]
    assert len(asked) == 1, texts  # one question, even when its turn crashed
    assert [t for t in texts if t.startswith(effect)] == [texts[-1]], texts
    assert texts.index(asked[0]) < len(texts) - 1  # the question came before the answer
    wamids = [s.wamid for s in sink.sends]
    assert len(wamids) == len(set(wamids))
    assert len(sink.sends) == len(texts) == 2, texts
    if flow == "transfer":
        assert after == (before[0] - 5000, before[1])
    elif flow == "booking":
        assert after[1] == before[1] + 1 and after[0] < before[0]
    else:
        assert after[1] == before[1] - 1 and after[0] > before[0]


async def _report_sent(channel: WhatsAppChannel, sink: GraphApiSink) -> None:
    last = sink.sends[-1]
    status = {
        "id": last.wamid,
        "status": "sent",
        "timestamp": "1700000000",
        "recipient_id": WA_ID,
        "biz_opaque_callback_data": last.body["biz_opaque_callback_data"],
    }
    await channel.ingest(parse_webhook(webhook(statuses=[status])))


class _DropConnections:
    """A fault that drops every database connection of the test database."""

    def __init__(self, url: str, at: str) -> None:
        self.dbname = url.rsplit("/", 1)[1]
        self.at = at
        self.fired = 0

    def point(self, name: str) -> None:
        if name != self.at or self.fired:
            return
        self.fired += 1
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.dbname,),
            )


async def test_a_dropped_connection_in_the_commit_window_books_and_answers_once(pg_settings, sink):
    """The database connections die between the turn's final checkpoint and the
    outbox commit: the commit fails, the job is retried, and the retry answers from
    the checkpoint: one booking, one charge, one reply."""
    settings = _settings(pg_settings, sink)
    async with process(settings) as channel:
        await seed_demo(channel.assistant.persistence.domain)
        trip = await _trip(channel)
        before = await _effects(channel)
        await deliver(channel, text_message(f"book trip {trip}", wa_id=WA_ID, mid="wamid.q"))
        drop = _DropConnections(pg_settings.database_url or "", "after_checkpoint")
        channel.assistant.runner.faults = drop  # type: ignore[assignment]
        with pytest.raises(psycopg.OperationalError):
            await deliver(channel, button_reply("yes", "Yes", wa_id=WA_ID))
        assert drop.fired == 1
        # The pool replaces the dropped connections; the job is retried.
        await channel.process_thread(await thread_of(channel))
        after = await _effects(channel)
    booked = [t for t in sink.texts(WA_ID) if t.startswith("Booked: booking")]
    assert len(booked) == 1, sink.texts(WA_ID)
    assert after[1] == before[1] + 1
    domain_trip_price = before[0] - after[0]
    assert domain_trip_price > 0
