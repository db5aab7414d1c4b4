"""`PreloadingPostgresSaver` on a pool: same rows and answers as the stock saver,
without the saver-wide lock and without thread hops.

The stock `AsyncPostgresSaver` serialises every statement of a process behind one
`asyncio.Lock` (needed for one shared connection, not for a pool) and moves
(de)serialisation into threads. These tests run a real graph with a confirmation
interrupt on both savers over one database and compare what each reads back."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

import psycopg
import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt

from agentgraph.checkpoints import PreloadingPostgresSaver, pending_interrupts
from agentgraph.persistence import open_postgres_pool, pool_kwargs


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    amount: int


def asks(state: State) -> State:
    answer = interrupt({"type": "confirmation", "prompt": f"Send {state.get('amount')}?"})
    return {"log": [f"answer:{answer}"]}


def build(saver):
    builder = StateGraph(State)
    builder.add_node("asks", asks)
    builder.add_edge(START, "asks")
    return builder.compile(checkpointer=saver)


def comparable(saved):
    """What a tuple says, minus nothing: config, checkpoint, metadata, parent, writes."""
    assert saved is not None
    return (
        saved.config,
        saved.checkpoint,
        saved.metadata,
        saved.parent_config,
        [(task, channel, repr(value)) for task, channel, value in saved.pending_writes],
    )


@pytest.fixture
async def pool(fresh_pg_url):
    async with open_postgres_pool(fresh_pg_url) as pool:
        await AsyncPostgresSaver(pool).setup()
        yield pool


async def test_rows_written_by_either_saver_read_the_same_on_both(pool):
    ours, stock = PreloadingPostgresSaver(pool), AsyncPostgresSaver(pool)
    for writer, thread in ((ours, "by-ours"), (stock, "by-stock")):
        config = {"configurable": {"thread_id": thread}}
        graph = build(writer)
        await graph.ainvoke({"log": ["start"], "amount": 5000}, config, durability="sync")
        mine = await ours.aget_tuple(config)
        theirs = await stock.aget_tuple(config)
        assert comparable(mine) == comparable(theirs)
        # The pause is visible the same way LangGraph's own snapshot sees it.
        snapshot = await graph.aget_state(config)
        assert [i.value for i in pending_interrupts(mine)] == [i.value for i in snapshot.interrupts]
        assert pending_interrupts(mine)[0].value["prompt"] == "Send 5000?"
        # Resuming through the other saver continues from the same state.
        other = build(stock if writer is ours else ours)
        final = await other.ainvoke(Command(resume="yes"), config, durability="sync")
        assert final["log"] == ["start", "answer:yes"]
        history = [s async for s in other.aget_state_history(config)]
        assert len(history) >= 3
        assert pending_interrupts(await ours.aget_tuple(config)) == []


async def test_a_checkpoint_with_pending_writes_survives_the_round_trip(pool):
    ours = PreloadingPostgresSaver(pool)
    config = {"configurable": {"thread_id": "writes"}}
    graph = build(ours)
    await graph.ainvoke({"log": [], "amount": 7}, config, durability="sync")
    saved = await ours.aget_tuple(config)
    assert saved is not None
    channels = [channel for _, channel, _ in saved.pending_writes]
    assert "__interrupt__" in channels
    listed = [t async for t in ours.alist(config, limit=1)]
    assert comparable(listed[0]) == comparable(saved)


async def test_no_thread_hop_when_reading_or_writing(pool, monkeypatch):
    ours = PreloadingPostgresSaver(pool)
    graph = build(ours)
    config = {"configurable": {"thread_id": "inline"}}

    async def forbidden(*args, **kwargs):
        raise AssertionError("a checkpoint operation went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", forbidden)
    await graph.ainvoke({"log": ["x"], "amount": 1}, config, durability="exit")
    saved = await ours.aget_tuple(config)
    assert saved is not None and pending_interrupts(saved)
    final = await graph.ainvoke(Command(resume="no"), config, durability="exit")
    assert final["log"] == ["x", "answer:no"]


async def test_operations_on_a_pool_do_not_queue_behind_each_other(pool):
    """One operation in flight (a cursor held open) must not hold up another
    conversation's read; the stock saver's lock would make the read wait."""
    ours = PreloadingPostgresSaver(pool)
    await build(ours).ainvoke({"log": [], "amount": 1}, {"configurable": {"thread_id": "b"}})
    async with ours._cursor() as cur:
        await cur.execute("SELECT 1")
        read = await asyncio.wait_for(ours.aget_tuple({"configurable": {"thread_id": "b"}}), 5)
    assert read is not None

    stock = AsyncPostgresSaver(pool)
    async with stock._cursor() as cur:
        await cur.execute("SELECT 1")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(stock.aget_tuple({"configurable": {"thread_id": "b"}}), 0.5)


async def test_a_single_connection_keeps_the_lock(fresh_pg_url):
    """Handed one connection instead of a pool, the saver still serialises its use."""
    async with await psycopg.AsyncConnection.connect(fresh_pg_url, **pool_kwargs()) as conn:
        saver = PreloadingPostgresSaver(conn)  # type: ignore[arg-type]
        await saver.setup()
        config = {"configurable": {"thread_id": "single"}}
        graph = build(saver)
        await graph.ainvoke({"log": [], "amount": 3}, config, durability="sync")
        async with saver._cursor() as cur:
            await cur.execute("SELECT 1")
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(saver.aget_tuple(config), 0.5)
        final = await graph.ainvoke(Command(resume="ok"), config, durability="sync")
        assert final["log"] == ["answer:ok"]
