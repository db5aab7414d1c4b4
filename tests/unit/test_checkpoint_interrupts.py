"""`pending_interrupts` reads a checkpoint the way LangGraph's own state snapshot does."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, Interrupt, interrupt

from agentgraph.checkpoints import NULL_TASK_ID, pending_interrupts


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def asks(state: State) -> State:
    answer = interrupt({"type": "confirmation", "prompt": "Send?"})
    return {"log": [f"asked:{answer}"]}


def fails(state: State) -> State:
    raise RuntimeError("down")


async def test_an_answered_interrupt_of_a_finished_task_is_not_pending():
    builder = StateGraph(State)
    builder.add_node("asks", asks)
    builder.add_node("fails", fails)
    builder.add_edge(START, "asks")
    builder.add_edge(START, "fails")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}

    with pytest.raises(RuntimeError):
        await graph.ainvoke({"log": []}, config, durability="sync")
    saved = await graph.checkpointer.aget_tuple(config)
    snapshot = await graph.aget_state(config)
    assert [i.value for i in pending_interrupts(saved)] == [i.value for i in snapshot.interrupts]
    assert [i.value["type"] for i in pending_interrupts(saved)] == ["confirmation"]

    # The answer lets `asks` finish; `fails` fails again, so the step stays open.
    with pytest.raises(RuntimeError):
        await graph.ainvoke(Command(resume="yes"), config, durability="sync")
    saved = await graph.checkpointer.aget_tuple(config)
    snapshot = await graph.aget_state(config)
    assert list(snapshot.interrupts) == []
    assert pending_interrupts(saved) == []


def test_input_writes_and_other_tasks_are_read_per_task():
    asked = Interrupt(value={"type": "confirmation"}, id="i1")
    done = Interrupt(value={"type": "confirmation"}, id="i2")
    saved = CheckpointTuple(
        {"configurable": {"thread_id": "t"}},
        {},  # type: ignore[typeddict-item]
        {},  # type: ignore[typeddict-item]
        None,
        [
            (NULL_TASK_ID, "__interrupt__", [Interrupt(value="input", id="i0")]),
            ("waiting", "__interrupt__", [asked]),
            ("waiting", "__resume__", ["earlier answer"]),
            ("finished", "__interrupt__", (done,)),
            ("finished", "messages", ["reply"]),
        ],
    )
    assert pending_interrupts(saved) == [asked]
    assert pending_interrupts(None) == []
