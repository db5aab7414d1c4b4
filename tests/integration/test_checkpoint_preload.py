"""A turn reads its thread's checkpoint from the database once, not twice.

`TurnRunner` reads the latest checkpoint to look for a pending confirmation and hands
it to the graph run (`agentgraph.checkpoints.preloaded`), so the run does not read
it again. These tests count the saver's real reads on both engines."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agentgraph.checkpoints import PreloadingInMemorySaver, preloaded
from agentgraph.testing import ScriptedChatModel, tool_call

ALICE = "+250788000001"


@pytest.fixture
def count_reads(monkeypatch):
    """Counts reads that reach a stock saver (what the preloading subclasses skip)."""
    reads: list[dict] = []
    for cls in (AsyncSqliteSaver, AsyncPostgresSaver, InMemorySaver):
        original = cls.aget_tuple

        async def counted(self, config, _original=original):
            reads.append(dict(config.get("configurable", {})))
            return await _original(self, config)

        monkeypatch.setattr(cls, "aget_tuple", counted)
    return reads


async def test_a_turn_reads_the_checkpoint_once(any_settings, open_seeded, count_reads):
    model = ScriptedChatModel(responses=[AIMessage(content="hi"), AIMessage(content="again")])
    async with open_seeded(any_settings, model) as assistant:
        first = await assistant.send("hello", user=ALICE, tenant="easymo")
        reads_first = len(count_reads)
        second = await assistant.send("hello again", user=ALICE, tenant="easymo")
        reads_second = len(count_reads) - reads_first
    assert first.replies == ["hi"] and second.replies == ["again"]
    assert reads_first == 1
    assert reads_second == 1
    assert second.turns == 2  # the second run started from the first turn's state


async def test_a_confirmation_turn_reads_once_and_resumes(any_settings, open_seeded, count_reads):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": "0788000002", "amount": 5000}, "t1"),
            AIMessage(content="Sent."),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        asked = await assistant.send("send 5000 to 0788000002", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation
        before = len(count_reads)
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        balance = await assistant.persistence.domain.wallets.balance("easymo", ALICE)
    assert done.replies == ["Sent."] and not done.awaiting_confirmation
    assert balance == 45_000
    assert len(count_reads) - before == 1


async def test_the_preload_is_one_shot_and_only_for_the_latest_checkpoint(count_reads):
    saver = PreloadingInMemorySaver()
    fake = CheckpointTuple({"configurable": {"thread_id": "t"}}, {}, {}, None, [])  # type: ignore[typeddict-item]
    with preloaded(saver, "t", fake):
        assert await saver.aget_tuple({"configurable": {"thread_id": "other"}}) is None
        assert (
            await saver.aget_tuple({"configurable": {"thread_id": "t", "checkpoint_id": "x"}})
            is None
        )
        subgraph = {"configurable": {"thread_id": "t", "checkpoint_ns": "child"}}
        assert await saver.aget_tuple(subgraph) is None
        assert await saver.aget_tuple({"configurable": {"thread_id": "t"}}) is fake
        assert await saver.aget_tuple({"configurable": {"thread_id": "t"}}) is None
    assert await saver.aget_tuple({"configurable": {"thread_id": "t"}}) is None
    # Reads that were not served from the preload went to the saver itself.
    assert [r.get("thread_id") for r in count_reads] == ["other", "t", "t", "t", "t"]
