"""Two conductor processes on one Postgres and one Redis, stepped together in simulated
time (`tests/support/engagement_worker.py`): each cycle is decided, executed and
measured once across both."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agentgraph.config import Settings
from agentgraph.engagement.conductor.event_settings import EventSettingsUpdate, save_event_settings
from agentgraph.engagement.delivery import interventions
from agentgraph.persistence import open_persistence
from tests.integration.test_engagement_service import set_confidence

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = [("HIGH", 30), ("LOW", 24), ("HIGH", 18)]


class Worker:
    """A conductor subprocess, one command line in, one answer line out."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, event_id: str, seed: int, env: dict[str, str]) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.engagement_worker", event_id, str(seed),
            cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        worker = cls(process)
        assert await worker.read() == "ready"
        return worker

    async def read(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=60)
        assert line, f"worker exited with {await self.process.wait()}"
        return line.decode().strip()

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.send("quit")
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def test_two_worker_processes_run_each_cycle_once(
    pg_settings: Settings, redis_url: str, redis_prefix: str
) -> None:
    event_id = f"ev-proc-{uuid.uuid4().hex[:8]}"
    settings = pg_settings.model_copy(update={"redis_url": redis_url, "redis_prefix": redis_prefix})
    async with open_persistence(settings) as persistence:  # migrated before the workers start
        await save_event_settings(
            persistence.store, event_id, EventSettingsUpdate(mode="AUTO"), settings
        )
        await set_confidence(persistence.store, event_id, {"*": 0.9})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AGENTGRAPH_"))}
    env |= {
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": redis_url,
        "AGENTGRAPH_REDIS_PREFIX": redis_prefix,
        "AGENTGRAPH_DATA_DIR": str(settings.data_dir),
        "AGENTGRAPH_OFFLINE": "1",
        "LANGSMITH_TRACING": "false",
    }
    workers = [await Worker.start(event_id, seed, env) for seed in (1, 2)]
    try:
        for rates, steps in SCHEDULE:
            for _ in range(steps):
                for worker in workers:
                    worker.send(rates)
                assert [await worker.read() for worker in workers] == ["done", "done"]
        feeds: list[list[dict[str, Any]]] = []
        for worker in workers:
            worker.send("dump")
            feeds.append(json.loads(await worker.read()))
    finally:
        for worker in workers:
            await worker.stop()

    def of(kind: str) -> list[dict[str, Any]]:
        return [m for feed in feeds for m in feed if m["type"] == kind]

    assert all(any(m["type"] == "anomaly" for m in feed) for feed in feeds)
    decided = Counter(d["id"] for d in of("decision"))
    executed = Counter(i["id"] for i in of("intervention"))
    measured = Counter(o["id"] for o in of("outcome"))
    assert executed and set(executed.values()) == {1}
    assert set(decided.values()) == {1} and set(measured.values()) == {1}
    assert set(decided) == set(executed) == set(measured)
    # The simulated traffic raises two anomalies worth a cycle: a drop, then a low.
    assert sorted(executed) == [f"{event_id}:s1:1", f"{event_id}:s1:2"]
    async with open_persistence(settings) as persistence:
        history = await interventions.history(persistence.store, event_id)
    assert sorted(h["id"] for h in history) == sorted(executed)
