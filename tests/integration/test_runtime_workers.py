"""Exactly-once replies across crashes and several worker processes.

Workers run as real subprocesses (`agentgraph worker` (`python -m agentgraph.cli worker`), offline
model). `AGENTGRAPH_CRASH_AT=after_commit` makes a worker SIGKILL itself right after
a turn's replies are committed to the outbox and before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.support.echo_model import wait_for
from tests.support.graph_api_sink import GraphApiSink
from tests.support.live_server import live_server
from tests.support.whatsapp import (
    WorkerProcess,
    channel_settings,
    post_signed,
    running_app,
    settle,
    text_message,
    webhook,
    worker_env,
)

pytestmark = pytest.mark.slow

CRASH = {"AGENTGRAPH_CRASH_AT": "after_commit"}


@pytest.fixture
async def sink():
    sink = GraphApiSink()
    async with live_server(sink.app) as url:
        sink.url = url
        yield sink


async def _rows(channel):
    return await channel.outbox._db.fetchall(
        "SELECT o.id, o.inbound_id, o.status, o.wamid, i.seq, i.thread_id FROM wa_outbox o "
        "JOIN wa_inbox i ON i.message_id = o.inbound_id ORDER BY o.id"
    )


def _assert_each_reply_sent_once(rows, sink):
    assert rows, "no replies were committed"
    assert all(r["status"] == "sent" for r in rows), rows
    sent = Counter(s.wamid for s in sink.sends)
    assert sorted(sent) == sorted(r["wamid"] for r in rows)
    assert set(sent.values()) == {1}


async def test_crash_between_commit_and_send_on_sqlite_sends_once(sqlite_settings, sink, tmp_path):
    settings = channel_settings(sqlite_settings, sink.url, server_consumes_queue=False)
    async with running_app(settings) as (http, channel):
        assert (await post_signed(http, webhook([text_message("hello")]))).status_code == 200
        crashing = WorkerProcess(worker_env(settings, **CRASH), tmp_path / "a.log")
        assert await crashing.wait_exit() == -9, crashing.log()
        rows = await _rows(channel)
        assert [r["status"] for r in rows] and {r["status"] for r in rows} == {"pending"}
        assert sink.sends == []
        assert await channel.inbox.depth() == 0
        survivor = WorkerProcess(worker_env(settings), tmp_path / "b.log")
        try:
            await survivor.wait_ready()
            await settle(channel)
        finally:
            await survivor.stop()
        after = await _rows(channel)
        assert await channel.inbox.pending_threads() == []
    assert [r["id"] for r in after] == [r["id"] for r in rows]
    _assert_each_reply_sent_once(after, sink)


async def test_killed_workers_messages_are_reclaimed_and_answered_once_in_order(
    pg_settings, redis_url, redis_prefix, sink, tmp_path
):
    settings = channel_settings(
        pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix}),
        sink.url,
        server_consumes_queue=False,
        queue_claim_idle_seconds=1.0,
        lock_ttl_seconds=2.0,
    )
    users = ["972500000101", "972500000102"]
    async with running_app(settings) as (http, channel):
        crashing = WorkerProcess(worker_env(settings, **CRASH), tmp_path / "a.log")
        await crashing.wait_ready()
        for n in range(4):
            for user in users:
                raw = webhook([text_message(f"what is my balance {n}", wa_id=user)])
                assert (await post_signed(http, raw)).status_code == 200
        assert await crashing.wait_exit() == -9, crashing.log()
        assert await channel.inbox.depth() > 0
        survivors = [WorkerProcess(worker_env(settings), tmp_path / f"w{n}.log") for n in range(2)]
        try:
            for worker in survivors:
                await worker.wait_ready()
            await settle(channel, within=40)
        finally:
            for worker in survivors:
                await worker.stop()
        rows = await _rows(channel)
    _assert_each_reply_sent_once(rows, sink)
    answered = {r["inbound_id"] for r in rows}
    assert len(answered) == 8
    by_wamid = {r["wamid"]: r for r in rows}
    for user in users:
        seqs = [by_wamid[s.wamid]["seq"] for s in sink.sends if s.body["to"] == user]
        assert seqs == sorted(seqs), f"replies to {user} out of order: {seqs}"


async def test_identical_posts_to_two_servers_at_once_make_one_turn(
    pg_settings, redis_url, redis_prefix, sink
):
    settings = channel_settings(
        pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix}),
        sink.url,
    )
    raw = webhook([text_message("just once", mid="wamid.same.instant")])
    async with running_app(settings) as (first, channel), running_app(settings) as (second, _):
        answers = await asyncio.gather(
            *(post_signed(client, raw) for client in (first, second) for _ in range(3))
        )
        assert {a.status_code for a in answers} == {200}
        await settle(channel)
        assert await channel.inbox.status_of("wamid.same.instant") == "done"
        rows = await _rows(channel)
    assert sink.texts() == ["echo: just once"]
    assert [(r["inbound_id"], r["status"]) for r in rows] == [("wamid.same.instant", "sent")]
    _assert_each_reply_sent_once(rows, sink)


async def test_two_worker_processes_keep_order_while_messages_keep_arriving(
    pg_settings, redis_url, redis_prefix, sink, tmp_path
):
    """N users x M messages: half posted before the first reply, the rest while two
    `agentgraph worker` processes are answering. Every message gets exactly one turn,
    every reply is sent once, and each user's replies follow the order of posting."""
    settings = channel_settings(
        pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix}),
        sink.url,
        server_consumes_queue=False,
    )
    users = [f"97250000030{n}" for n in range(3)]
    per_user = 6
    posted: dict[str, list[str]] = {user: [] for user in users}

    async def post_round(n: int) -> None:
        for user in users:
            mid = f"wamid.order.{user}.{n}"
            posted[user].append(mid)
            raw = webhook([text_message(f"what is my balance {n}", wa_id=user, mid=mid)])
            assert (await post_signed(http, raw)).status_code == 200

    async with running_app(settings) as (http, channel):
        workers = [WorkerProcess(worker_env(settings), tmp_path / f"w{n}.log") for n in range(2)]
        try:
            for worker in workers:
                await worker.wait_ready()
            for n in range(per_user // 2):
                await post_round(n)
            await wait_for(lambda: len(sink.sends) > 0, within=30)
            for n in range(per_user // 2, per_user):
                await post_round(n)
            await settle(channel, within=60)
        finally:
            for worker in workers:
                await worker.stop()
        rows = await _rows(channel)
    _assert_each_reply_sent_once(rows, sink)
    # One turn per message: each inbound message has exactly one reply row.
    assert Counter(r["inbound_id"] for r in rows) == Counter(
        mid for mids in posted.values() for mid in mids
    )
    inbound_of = {r["wamid"]: r["inbound_id"] for r in rows}
    for user in users:
        answered = [inbound_of[s.wamid] for s in sink.sends if s.body["to"] == user]
        assert answered == posted[user], f"replies to {user} out of posted order"
    for user in users:  # numbers without a wallet yet
        assert sink.texts(user) == ["Your wallet balance is 0 RWF."] * per_user
