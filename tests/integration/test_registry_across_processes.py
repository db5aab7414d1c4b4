"""A registry change made by another process reaches a running assistant on its next
turn: through Redis at once (Postgres), through the polled counter without Redis
(SQLite). The other process is `agentgraph agents set-status`, run as a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from agentgraph.agents.agent_node import UNAVAILABLE_REPLY
from agentgraph.config import Settings

ACME_USER = "+15550000001"
MAINTENANCE = "Support is closed for an upgrade until 14:00."


def set_status(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "agents", "set-status", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


async def support_id(assistant) -> int:
    agents = await assistant.persistence.domain.agents.all("acme")
    return next(a.id for a in agents if a.agent_type == "support")


async def test_change_in_another_process_shows_on_the_next_turn_through_redis(
    fresh_pg_url, tmp_path, redis_url, redis_prefix, open_seeded
):
    env = {
        "DATABASE_URL": fresh_pg_url,
        "REDIS_URL": redis_url,
        "AGENTGRAPH_REDIS_PREFIX": redis_prefix,
        "AGENTGRAPH_DATA_DIR": str(tmp_path),
        "AGENTGRAPH_OFFLINE": "1",
    }
    # The counter row is never re-read in this test: only Redis can tell the change.
    settings = Settings(**env, AGENTGRAPH_REGISTRY_REFRESH_SECONDS=3600)
    async with open_seeded(settings) as assistant:
        view = assistant.persistence.domain.agent_view
        agent = await support_id(assistant)
        first = await assistant.send("my invoice is wrong", user=ACME_USER, tenant="acme")
        loads = view.stats.loads
        for _ in range(3):
            await assistant.send("thanks", user=ACME_USER, tenant="acme")
        assert view.stats.loads == loads  # nothing changed: no registry read per turn
        args = ("maintenance", "--message", MAINTENANCE, "--tenant", "acme")
        out = set_status(env, str(agent), *args)
        assert out.endswith("is maintenance, version 2")
        during = await assistant.send("my invoice is wrong", user=ACME_USER, tenant="acme")
        set_status(env, str(agent), "inactive", "--tenant", "acme")
        menu = await assistant.send("hi", user=ACME_USER, tenant="acme")
        reads = view.stats.version_reads
    assert first.agent == "support"
    assert (during.agent, during.replies) == ("support", [MAINTENANCE])
    assert menu.replies == [UNAVAILABLE_REPLY]
    assert reads == 1


async def test_change_in_another_process_shows_after_the_refresh_without_redis(
    sqlite_settings, open_seeded
):
    settings = sqlite_settings.model_copy(update={"registry_refresh_seconds": 0.2})
    env = {"AGENTGRAPH_DATA_DIR": str(settings.data_dir), "AGENTGRAPH_OFFLINE": "1"}
    async with open_seeded(settings) as assistant:
        assistant.persistence.domain.agent_view.refresh_seconds = 0.2
        agent = await support_id(assistant)
        before = await assistant.send("my invoice is wrong", user=ACME_USER, tenant="acme")
        set_status(env, str(agent), "maintenance", "--message", MAINTENANCE, "--tenant", "acme")
        await asyncio.sleep(0.3)
        after = await assistant.send("my invoice is wrong", user=ACME_USER, tenant="acme")
    assert before.agent == "support" and before.replies != [MAINTENANCE]
    assert (after.agent, after.replies) == ("support", [MAINTENANCE])
