"""Per-turn overhead of the assistant graph, and checkpoint storage per conversation.

Runs the real assistant graph with a zero-latency scripted model (each turn: the
payment agent calls check_balance, then answers) on InMemorySaver, SQLite and
Postgres, and prints p50/p99 latency and turns/s, then the checkpoint bytes one
conversation holds after 50 turns with and without pruning.

    python bench/turn_overhead.py [--turns 200] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Postgres rows need a reachable server; the script creates and drops its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import psycopg
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from agentgraph.agents import build_assistant_graph
from agentgraph.config import Settings
from agentgraph.context import Context
from agentgraph.domain.seed import seed_demo
from agentgraph.persistence import open_domain, open_persistence
from agentgraph.runtime.turns import TurnRunner
from agentgraph.testing import FunctionChatModel

USER = "+250788000001"

SQLITE_SIZE_SQL = (
    "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
    " WHERE thread_id = ?",
    "SELECT coalesce(sum(length(value)), 0) FROM writes WHERE thread_id = ?",
)
POSTGRES_SIZE_SQL = (
    "SELECT coalesce(sum(pg_column_size(checkpoint) + pg_column_size(metadata)), 0)"
    " FROM checkpoints WHERE thread_id = %s",
    "SELECT coalesce(sum(pg_column_size(blob)), 0) FROM checkpoint_blobs WHERE thread_id = %s",
    "SELECT coalesce(sum(pg_column_size(blob)), 0) FROM checkpoint_writes WHERE thread_id = %s",
)


def balance_bot(messages: list[BaseMessage]) -> AIMessage:
    """Zero-latency policy: hand off to payment, check the balance, then answer."""
    last = messages[-1]
    agent = str(messages[0].content).split("\n", 1)[0].removeprefix("agent: ").strip()
    n = len(messages)
    if isinstance(last, HumanMessage) and agent == "triage":
        msg = AIMessage("", tool_calls=[{"name": "transfer_to_payment", "args": {}, "id": f"h{n}"}])
    elif isinstance(last, ToolMessage) and last.name == "check_balance":
        msg = AIMessage(content=str(last.content))
    else:
        msg = AIMessage("", tool_calls=[{"name": "check_balance", "args": {}, "id": f"b{n}"}])
    msg.usage_metadata = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}
    return msg


@asynccontextmanager
async def runner_for(
    engine: str, settings: Settings, retention: int | None
) -> AsyncIterator[TurnRunner]:
    if engine == "memory":
        async with open_domain(settings) as domain:
            await seed_demo(domain)
            graph = build_assistant_graph(
                model=FunctionChatModel(respond=balance_bot), domain=domain, settings=settings
            )
            yield TurnRunner(graph.compile(checkpointer=InMemorySaver()), retention=retention)
        return
    async with open_persistence(settings) as p:
        await seed_demo(p.domain)
        graph = build_assistant_graph(
            model=FunctionChatModel(respond=balance_bot), domain=p.domain, settings=settings
        )
        compiled = graph.compile(checkpointer=p.checkpointer, store=p.store)
        yield TurnRunner(
            compiled,
            retention=retention,
            durability=settings.durability,
            prune_every=settings.prune_every_turns,
        )


async def latency(engine: str, settings: Settings, turns: int) -> dict[str, float]:
    ctx = Context(tenant_id="easymo", user_id=USER, channel="cli")
    async with runner_for(engine, settings, retention=settings.checkpoint_retention) as runner:
        for i in range(10):  # warm-up: connections, caches
            await runner.send(f"warm:{i}", "balance", ctx)
        samples = []
        began = time.perf_counter()
        for i in range(turns):
            t0 = time.perf_counter()
            result = await runner.send(f"bench:{i % 20}", "balance please", ctx)
            samples.append((time.perf_counter() - t0) * 1000)
            assert result.replies and "50,000" in result.replies[-1], result
        elapsed = time.perf_counter() - began
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "turns_per_s": turns / elapsed,
    }


async def storage_bytes(
    engine: str, settings: Settings, retention: int | None, turns: int = 50
) -> int:
    ctx = Context(tenant_id="easymo", user_id=USER, channel="cli")
    thread = f"storage:{uuid.uuid4().hex[:8]}"
    async with runner_for(engine, settings, retention) as runner:
        for _ in range(turns):
            await runner.send(thread, "balance please", ctx)
        saver = runner.graph.checkpointer
        if engine == "memory":
            assert isinstance(saver, InMemorySaver)
            size = sum(len(c[0][1]) + len(c[1][1]) for c in saver.storage[thread][""].values())
            size += sum(len(v[1]) for k, v in saver.blobs.items() if k[0] == thread)
            size += sum(
                len(w[2][1])
                for k, ws in saver.writes.items()
                if k[0] == thread
                for w in ws.values()
            )
            return size
    if engine == "sqlite":
        async with aiosqlite.connect(settings.data_dir / "checkpoints.sqlite3") as conn:
            total = 0
            for sql in SQLITE_SIZE_SQL:
                row = await (await conn.execute(sql, (thread,))).fetchone()
                total += int(row[0])
            return total
    with psycopg.connect(settings.database_url) as conn:
        total = 0
        for sql in POSTGRES_SIZE_SQL:
            total += int(conn.execute(sql, (thread,)).fetchone()[0])
        return total


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    dbname = f"agentgraph_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    pg_url = args.pg.rsplit("/", 1)[0] + "/" + dbname
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = dict(AGENTGRAPH_DATA_DIR=Path(tmp), AGENTGRAPH_OFFLINE=True)
            configs = {
                "memory": Settings(**base),
                "sqlite": Settings(**base),
                "postgres": Settings(**base, DATABASE_URL=pg_url),
            }
            async_configs = {
                "sqlite": Settings(**base, AGENTGRAPH_DURABILITY="async"),
                "postgres": Settings(**base, DATABASE_URL=pg_url, AGENTGRAPH_DURABILITY="async"),
            }
            print(
                f"Per-turn latency, {args.turns} turns, zero-latency model (4 graph steps, 1 tool)"
            )
            print(f"{'checkpointer':<24}{'p50 ms':>10}{'p99 ms':>10}{'turns/s':>10}")
            rows = {}
            runs = [(n, s, "exit") for n, s in configs.items()]
            runs += [(n, s, "async") for n, s in async_configs.items()]
            for name, settings, durability in runs:
                label = f"{name} ({durability})" if name != "memory" else name
                rows[label] = r = await latency(name, settings, args.turns)
                print(f"{label:<24}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['turns_per_s']:>10.1f}")
            for label in ("postgres (exit)", "postgres (async)"):
                ratio = rows[label]["p50"] / rows["memory"]["p50"]
                print(f"{label} / memory p50 ratio: {ratio:.2f}x")
            print()
            print(
                "Checkpoint bytes for one conversation "
                "(durability exit, retention 10, pruned every 5 turns)"
            )
            header = ["50 turns, no pruning", "50 turns, pruned", "100 turns, pruned"]
            print(f"{'checkpointer':<14}" + "".join(f"{h:>22}" for h in header))
            for name, settings in configs.items():
                sizes = [
                    await storage_bytes(name, settings, None, 50),
                    await storage_bytes(name, settings, 10, 50),
                    await storage_bytes(name, settings, 10, 100),
                ]
                print(f"{name:<14}" + "".join(f"{v:>22,}" for v in sizes))
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
