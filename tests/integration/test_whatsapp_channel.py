"""The channel runtime without HTTP: one job answers a conversation's queued rows."""

from __future__ import annotations

import asyncio
import sqlite3

from langchain_core.messages import AIMessage

from agentgraph.clock import ManualClock
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import open_whatsapp_channel
from agentgraph.runtime.worker import run_worker
from agentgraph.testing import FunctionChatModel
from agentgraph.whatsapp.payloads import parse_webhook
from tests.support.echo_model import EchoChatModel
from tests.support.whatsapp import webhook

WA_ID = "972500000007"


async def thread_of(channel) -> str:
    """The conversation's thread id (it names the user by pseudonym)."""
    return await channel.assistant.thread_id("whatsapp", "easymo", f"+{WA_ID}")


async def test_one_job_answers_more_queued_rows_than_one_read_returns(sqlite_settings):
    settings = sqlite_settings.model_copy(update={"debounce_seconds": 0.0})
    async with (
        open_assistant(settings, model=EchoChatModel()) as assistant,
        open_whatsapp_channel(settings, assistant) as channel,
    ):
        body = webhook(
            [
                {"from": WA_ID, "id": f"wamid.page.{n}", "type": "text", "text": {"body": f"m{n}"}}
                for n in range(5)
            ]
        )
        assert await channel.ingest(parse_webhook(body)) == 5
        channel.pending_batch = 2  # three reads of the inbox: 2 + 2 + 1 rows
        await channel.process_thread(await thread_of(channel))
        sent = await channel.outbox.recent(thread_id=(await thread_of(channel)))
        assert [row.payload["text"]["body"] for row in sent] == [f"echo: m{n}" for n in range(5)]
        assert [row.inbound_id for row in sent] == [f"wamid.page.{n}" for n in range(5)]
        assert await channel.inbox.depth() == 0


async def test_a_conversation_taken_over_mid_job_is_left_to_its_new_owner(sqlite_settings):
    """If another worker answered the rows meanwhile (this one lost its lock), this
    job stores and sends nothing for them and stops answering its snapshot."""
    settings = sqlite_settings.model_copy(update={"debounce_seconds": 0.0})
    calls: list[str] = []

    def answered_elsewhere(messages):
        calls.append(str(messages[-1].content))
        with sqlite3.connect(settings.data_dir / "agentgraph.sqlite3", timeout=5) as db:
            db.execute("UPDATE wa_inbox SET status = 'done' WHERE message_id LIKE 'wamid.to.%'")
        return AIMessage(content="late answer")

    async with (
        open_assistant(settings, model=FunctionChatModel(respond=answered_elsewhere)) as assistant,
        open_whatsapp_channel(settings, assistant) as channel,
    ):
        body = webhook(
            [
                {"from": WA_ID, "id": f"wamid.to.{n}", "type": "text", "text": {"body": f"t{n}"}}
                for n in range(3)
            ]
        )
        await channel.ingest(parse_webhook(body))
        thread = await thread_of(channel)
        assert [job.thread_id for job in await channel.queue.take(10, 0.1)] == [thread]
        await channel.process_thread(thread)
        assert calls == ["t0"]  # one turn, then the job stopped
        assert await channel.outbox.recent(thread_id=thread) == []
        # A fresh job re-reads what is still queued once it holds the lock.
        assert [job.thread_id for job in await channel.queue.take(10, 0.1)] == [thread]


async def test_the_worker_stops_by_itself_between_queue_reads(pg_settings, redis_url, redis_prefix):
    """Shutdown sets the stop event instead of cancelling a blocking XREADGROUP
    (cancelling redis-py mid-read could hang a server's shutdown forever); a turn
    in flight finishes and its reply is stored before the worker returns."""
    settings = pg_settings.model_copy(
        update={"redis_url": redis_url, "redis_prefix": redis_prefix, "debounce_seconds": 0.0}
    )
    async with (
        open_assistant(settings, model=EchoChatModel()) as assistant,
        open_whatsapp_channel(settings, assistant) as channel,
    ):
        stop, reading = asyncio.Event(), asyncio.Event()
        take = channel.queue.take

        async def take_and_tell(*args, **kwargs):
            reading.set()  # a queue read has started
            return await take(*args, **kwargs)

        channel.queue.take = take_and_tell
        worker = asyncio.create_task(run_worker(channel, stop))
        body = webhook(
            [{"from": WA_ID, "id": "wamid.stop.1", "type": "text", "text": {"body": "hi"}}]
        )
        await channel.ingest(parse_webhook(body))
        thread = await thread_of(channel)
        for _ in range(200):
            if await channel.outbox.recent(thread_id=thread):
                break
            await asyncio.sleep(0.05)
        # The reply is stored: the next read the loop starts blocks on an empty queue.
        reading.clear()
        await asyncio.wait_for(reading.wait(), timeout=30)
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
        assert not worker.cancelled()
        sent = await channel.outbox.recent(thread_id=thread)
        assert [row.payload["text"]["body"] for row in sent] == ["echo: hi"]


def _text(n: int, body: str) -> dict:
    return {"from": WA_ID, "id": f"wamid.clock.{n}", "type": "text", "text": {"body": body}}


async def _answers_after(settings, arrivals) -> list[str]:
    """Ingest each (seconds after the previous webhook, [texts]) on a ManualClock, then
    answer the conversation in one job; returns the reply texts in order."""
    clock = ManualClock()
    ids = iter(range(1000))
    async with (
        open_assistant(settings, model=EchoChatModel(), clock=clock) as assistant,
        open_whatsapp_channel(settings, assistant, clock=clock) as channel,
    ):
        for gap, texts in arrivals:
            clock.advance(gap)
            body = webhook([_text(next(ids), text) for text in texts])
            assert await channel.ingest(parse_webhook(body)) == len(texts)
        await channel.process_thread(await thread_of(channel))
        sent = await channel.outbox.recent(thread_id=await thread_of(channel))
        assert await channel.inbox.depth() == 0
        return [row.payload["text"]["body"] for row in sent]


async def test_messages_within_the_window_merge_up_to_its_edge(any_settings):
    settings = any_settings.model_copy(update={"debounce_seconds": 2.0})
    # 1.0 s, then exactly 2.0 s after the previous message: both still inside the window.
    arrivals = [(0, ["first"]), (1.0, ["second"]), (2.0, ["third"])]
    assert await _answers_after(settings, arrivals) == ["echo: first\nsecond\nthird"]


async def test_messages_further_apart_than_the_window_get_their_own_turns(sqlite_settings):
    settings = sqlite_settings.model_copy(update={"debounce_seconds": 2.0})
    arrivals = [(0, ["first"]), (2.5, ["second"]), (0.5, ["third"]), (3.0, ["fourth"])]
    assert await _answers_after(settings, arrivals) == [
        "echo: first",
        "echo: second\nthird",
        "echo: fourth",
    ]


async def test_one_webhook_shares_one_arrival_time(sqlite_settings):
    """A body's messages arrive together: a tiny window still merges them all, and the
    next body, past the window, starts a turn of its own."""
    settings = sqlite_settings.model_copy(update={"debounce_seconds": 0.001})
    arrivals = [(0, ["a", "b", "c"]), (0.002, ["d"])]
    assert await _answers_after(settings, arrivals) == ["echo: a\nb\nc", "echo: d"]
