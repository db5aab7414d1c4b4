"""Checkpoint retention on a tiny graph: exactly the newest `keep` checkpoints of each
namespace stay, with their writes and the blobs they name; other threads are untouched.

InMemorySaver and AsyncSqliteSaver here (fast); test_durability.py checks the three
savers, Postgres included, through the assistant.
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph

from agentgraph.checkpoints.retention import delete_thread, prune_thread


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def step(state: State) -> dict[str, list[str]]:
    return {"log": [f"step {len(state['log'])}"]}


def _builder() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_edge("step", END)
    return builder


async def _run(saver: BaseCheckpointSaver, thread: str, turns: int) -> None:
    graph = _builder().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread}}
    for n in range(turns):
        await graph.ainvoke({"log": [f"turn {n}"]}, config)


async def _ids(saver: BaseCheckpointSaver, thread: str) -> list[str]:
    config = {"configurable": {"thread_id": thread}}
    return [c.config["configurable"]["checkpoint_id"] async for c in saver.alist(config)]


async def _state(saver: BaseCheckpointSaver, thread: str) -> list[str]:
    graph = _builder().compile(checkpointer=saver)
    snapshot = await graph.aget_state({"configurable": {"thread_id": thread}})
    return snapshot.values["log"]


async def _check_pruning(saver: BaseCheckpointSaver) -> None:
    await _run(saver, "t1", 3)
    await _run(saver, "t2", 2)
    before = await _ids(saver, "t1")
    other = await _ids(saver, "t2")
    assert len(before) == 9  # input, loop and step checkpoints per turn
    state = await _state(saver, "t1")
    assert await prune_thread(saver, "t1", 4) == 5
    assert await _ids(saver, "t1") == before[:4]
    assert await _state(saver, "t1") == state
    assert await _ids(saver, "t2") == other
    assert await prune_thread(saver, "t1", 4) == 0
    assert await prune_thread(saver, "t1", 1) == 3
    assert await _ids(saver, "t1") == before[:1]
    assert await _state(saver, "t1") == state
    # The thread goes on from the kept checkpoint.
    await _run(saver, "t1", 1)
    assert (await _state(saver, "t1"))[-2:] == ["turn 0", "step 7"]
    assert await prune_thread(saver, "nobody", 1) == 0


async def test_memory_pruning_keeps_the_newest_and_their_blobs():
    saver = InMemorySaver()
    await _check_pruning(saver)
    kept = await _ids(saver, "t1")
    assert set(saver.storage["t1"][""]) == set(kept)
    assert all(key[2] in kept for key in saver.writes if key[0] == "t1")
    assert {k for k in saver.blobs if k[0] == "t1"}  # the kept state's blobs stay


async def test_sqlite_pruning_keeps_the_newest_and_clears_their_parents(tmp_path):
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "c.sqlite")) as saver:
        await _check_pruning(saver)
        async with saver.conn.execute(
            "SELECT COUNT(*) FROM writes WHERE thread_id = 't1' AND checkpoint_id NOT IN "
            "(SELECT checkpoint_id FROM checkpoints WHERE thread_id = 't1')"
        ) as cur:
            assert (await cur.fetchone())[0] == 0
        async with saver.conn.execute(
            "SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints WHERE thread_id = 't1' "
            "ORDER BY checkpoint_id"
        ) as cur:
            rows = await cur.fetchall()
        assert rows[0][1] is None and rows[1][1] == rows[0][0]
        async with saver.conn.execute(
            "SELECT COUNT(*) FROM checkpoints "
            "WHERE thread_id = 't2' AND parent_checkpoint_id IS NULL"
        ) as cur:
            assert (await cur.fetchone())[0] == 1


async def test_keep_must_be_at_least_one_and_the_saver_known():
    with pytest.raises(ValueError, match="at least 1"):
        await prune_thread(InMemorySaver(), "t", 0)
    assert await prune_thread(InMemorySaver(), "t", 1) == 0

    class Unknown(InMemorySaver.__base__):  # type: ignore[misc,name-defined]
        pass

    with pytest.raises(TypeError, match="no retention support for Unknown"):
        await prune_thread(Unknown(), "t", 1)


async def test_delete_thread_erases_one_conversation():
    saver = InMemorySaver()
    await _run(saver, "t1", 1)
    await _run(saver, "t2", 1)
    await delete_thread(saver, "t1")
    assert await _ids(saver, "t1") == []
    assert len(await _ids(saver, "t2")) == 3


async def test_postgres_pruning_on_a_single_connection(fresh_pg_url):
    async with AsyncPostgresSaver.from_conn_string(fresh_pg_url) as saver:
        await saver.setup()
        await _check_pruning(saver)
