"""Durable conversations: restart survival, retention pruning, bounded memory."""

from __future__ import annotations

import re

import aiosqlite
import psycopg
from langchain_core.messages import AIMessage

from agentgraph.config import Settings
from agentgraph.testing import ScriptedChatModel, tool_call

ALICE = "+250788000001"
BOB = "+250788000002"


async def _checkpoint_count(settings: Settings, thread_id: str) -> int:
    if settings.database_url:
        with psycopg.connect(settings.database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,)
            ).fetchone()
            return int(row[0])
    async with aiosqlite.connect(settings.data_dir / "checkpoints.sqlite3") as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = ?", (thread_id,)
        )
        row = await cur.fetchone()
        return int(row[0])


async def _storage(settings: Settings, thread_id: str) -> dict[str, int]:
    """Rows and bytes the thread holds in every LangGraph table of the engine."""
    if settings.database_url:
        queries = {
            "checkpoints": "SELECT count(*), coalesce(sum(pg_column_size(c.*)), 0) "
            "FROM checkpoints c WHERE thread_id = %s",
            "writes": "SELECT count(*), coalesce(sum(pg_column_size(w.*)), 0) "
            "FROM checkpoint_writes w WHERE thread_id = %s",
            "blobs": "SELECT count(*), coalesce(sum(pg_column_size(b.*)), 0) "
            "FROM checkpoint_blobs b WHERE thread_id = %s",
        }
        out: dict[str, int] = {}
        with psycopg.connect(settings.database_url) as conn:
            for table, sql in queries.items():
                rows, size = conn.execute(sql, (thread_id,)).fetchone()
                out[table], out[f"{table}_bytes"] = int(rows), int(size)
        return out
    queries = {
        "checkpoints": "SELECT count(*), coalesce(sum(length(checkpoint) + length(metadata)), 0) "
        "FROM checkpoints WHERE thread_id = ?",
        "writes": "SELECT count(*), coalesce(sum(length(value)), 0) FROM writes "
        "WHERE thread_id = ?",
    }
    out = {}
    async with aiosqlite.connect(settings.data_dir / "checkpoints.sqlite3") as conn:
        for table, sql in queries.items():
            cur = await conn.execute(sql, (thread_id,))
            rows, size = await cur.fetchone()
            out[table], out[f"{table}_bytes"] = int(rows), int(size)
    return out


async def test_pruning_stops_checkpoints_writes_and_blobs_from_growing(any_settings, open_seeded):
    """Every table LangGraph writes a thread into stops growing once pruning runs: a
    pruner that kept old writes or blobs would grow them by every turn."""
    settings = any_settings.model_copy(
        update={
            "checkpoint_retention": 2,
            "prune_every_turns": 1,
            "history_window": 4,
            # Every step saves its writes, so a pruner that kept them would grow them.
            "durability": "async",
        }
    )
    seen: list[dict[str, int]] = []
    async with open_seeded(settings) as assistant:
        thread = await assistant.thread_id("cli", "easymo", ALICE)
        # By turn 20 the window and the running summary (at most 1,500 characters)
        # are full: from then on a turn's state is as large as the last one's.
        for turn in range(1, 41):
            await assistant.send("what is my balance", user=ALICE, tenant="easymo")
            if turn in (20, 30, 40):
                seen.append(await _storage(settings, thread))
    tables = ["checkpoints", "writes"] + (["blobs"] if settings.database_url else [])
    for table in tables:
        counts = [s[table] for s in seen]
        assert counts[0] == counts[1] == counts[2], (table, counts)
    assert seen[0]["checkpoints"] == 2
    # Bytes may wiggle with message sizes, never grow with the number of turns.
    for table in tables:
        sizes = [s[f"{table}_bytes"] for s in seen]
        assert max(sizes) <= 1.1 * min(sizes) + 512, (table, sizes)


async def test_pending_confirmation_survives_restart(any_settings, open_seeded):
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 7000}, "t1"),
        ]
    )
    async with open_seeded(any_settings, model) as assistant:
        asked = await assistant.send("send 7000 to bob", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation
    # A new process: new connections, new graph, same databases.
    resumed = ScriptedChatModel(responses=[AIMessage(content="Sent after restart.")])
    async with open_seeded(any_settings, resumed) as assistant:
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert done.replies == ["Sent after restart."]
        assert done.agent == "payment"
        assert await assistant.persistence.domain.wallets.balance("easymo", ALICE) == 43_000


async def test_history_survives_restart(any_settings, open_seeded):
    async with open_seeded(any_settings) as assistant:
        await assistant.send("hello", user=ALICE, tenant="easymo")
        await assistant.send("what is my balance", user=ALICE, tenant="easymo")
    async with open_seeded(any_settings) as assistant:
        state = await assistant.graph.aget_state(
            {"configurable": {"thread_id": (await assistant.thread_id("cli", "easymo", ALICE))}}
        )
        humans = [m.content for m in state.values["messages"] if m.type == "human"]
        assert humans == ["hello", "what is my balance"]
        assert state.values["active_agent"] == "payment"


async def test_retention_keeps_checkpoints_bounded(any_settings, open_seeded):
    settings = any_settings.model_copy(update={"checkpoint_retention": 3, "prune_every_turns": 1})
    async with open_seeded(settings) as assistant:
        thread = await assistant.thread_id("cli", "easymo", ALICE)
        for i in range(12):
            await assistant.send(
                "what is my balance" if i % 2 else "hi", user=ALICE, tenant="easymo"
            )
        assert await _checkpoint_count(settings, thread) == 3
        # The newest checkpoint is intact: the conversation goes on.
        result = await assistant.send("show my transactions", user=ALICE, tenant="easymo")
        assert result.replies and result.agent == "payment"
        state = await assistant.graph.aget_state({"configurable": {"thread_id": thread}})
        assert state.values["turns"] == 13


async def test_pruning_never_drops_a_pending_confirmation(any_settings, open_seeded):
    settings = any_settings.model_copy(update={"checkpoint_retention": 1, "prune_every_turns": 1})
    model = ScriptedChatModel(
        responses=[
            tool_call("transfer_to_payment", {}, "h1"),
            tool_call("transfer_money", {"recipient_phone": BOB, "amount": 1000}, "t1"),
            AIMessage(content="Sent after restart."),
        ]
    )
    async with open_seeded(settings, model) as assistant:
        asked = await assistant.send("send 1000 to bob", user=ALICE, tenant="easymo")
        assert asked.awaiting_confirmation
        done = await assistant.send("yes", user=ALICE, tenant="easymo")
        assert done.replies == ["Sent after restart."]
        assert await assistant.persistence.domain.wallets.balance("easymo", ALICE) == 49_000


async def test_periodic_pruning_bounds_storage(sqlite_settings, open_seeded):
    settings = sqlite_settings.model_copy(
        update={"checkpoint_retention": 4, "prune_every_turns": 5}
    )
    counts = []
    async with open_seeded(settings) as assistant:
        thread = await assistant.thread_id("cli", "easymo", ALICE)
        for _ in range(20):
            await assistant.send("what is my balance", user=ALICE, tenant="easymo")
            counts.append(await _checkpoint_count(settings, thread))
    assert counts[4] == counts[9] == counts[14] == counts[19] == 4
    assert max(counts) <= 4 + 5 * 6  # at most five turns of about six checkpoints each


async def test_long_conversation_stays_bounded(sqlite_settings, open_seeded):
    settings = sqlite_settings.model_copy(update={"history_window": 8})
    async with open_seeded(settings) as assistant:
        thread = await assistant.thread_id("cli", "easymo", ALICE)
        for i in range(25):
            await assistant.send(f"what is my balance, question {i}", user=ALICE, tenant="easymo")
        state = await assistant.graph.aget_state({"configurable": {"thread_id": thread}})
        messages = state.values["messages"]
        summary = state.values["summary"]
    # The window keeps the last two turns verbatim (8 messages: human, ai, tool, ai).
    assert [m.type for m in messages] == ["human", "ai", "tool", "ai"] * 2
    assert [m.content for m in messages if m.type == "human"] == [
        "what is my balance, question 23",
        "what is my balance, question 24",
    ]
    # The summary keeps the most recent older lines within 1500 characters: the user
    # lines of questions 12 to 22, the oldest ones dropped.
    asked = re.findall(r"^User: what is my balance, question (\d+)$", summary, re.MULTILINE)
    assert [int(n) for n in asked] == list(range(12, 23))
    assert summary.endswith(
        "User: what is my balance, question 22\n"
        "Result: Your wallet balance is 50,000 RWF.\n"
        "Assistant: Your wallet balance is 50,000 RWF."
    )
    assert len(summary) <= 1500
