"""Registry changes made over HTTP reach an assistant running in another process on its
next turn: `agentgraph serve` (a subprocess) takes the operator's PATCH and DELETE;
the assistant in this test process follows. Through Redis at once on Postgres (its
database counter is never re-read), through the polled counter on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from agentgraph.config import Settings
from agentgraph.domain.seed import seed_demo
from agentgraph.models.offline.tables import load_tables
from agentgraph.runtime.assistant import open_assistant
from tests.e2e.test_whatsapp_serve import _env, _serve, _stop
from tests.support.operators import PASSWORD, bearer, password_hash

pytestmark = pytest.mark.slow

TABLES = load_tables()
ALICE = "+250788000001"
JEAN = "+250788000002"
CLOSED = "Bus bookings are closed for maintenance until 14:00."
NO_WALLET = (
    "Sorry, I can't help with the wallet, balances or money transfers here. "
    'Say "menu" to see what I can help you with.'
)
NO_BUSES = (
    "Sorry, I can't help with bus trips or bookings here. "
    'Say "menu" to see what I can help you with.'
)


async def _follow_http_changes(
    tmp_path, env: dict[str, str], settings: Settings, settle: Callable[[], Awaitable[None]]
) -> list[tuple[str | None, list[str]]]:
    """Each step: a change over HTTP to the served process, then a turn here."""
    seen: list[tuple[str | None, list[str]]] = []
    async with open_assistant(settings) as assistant:
        domain = assistant.persistence.domain
        await seed_demo(domain)
        await domain.operators.add("admin@easymo.test", password_hash(), "tenant_admin", "easymo")

        async def turn(text: str, user: str) -> None:
            result = await assistant.send(text, user=user, tenant="easymo")
            seen.append((result.agent, result.replies))

        process, url, log = await _serve(env, tmp_path / "serve.log")
        try:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                login = await http.post(
                    "/api/v1/auth/token",
                    data={"username": "admin@easymo.test", "password": PASSWORD},
                )
                admin = bearer(login.json()["access_token"])
                listed = (await http.get("/api/v1/agents", headers=admin)).json()["items"]
                ids = {a["agent_type"]: a["id"] for a in listed}

                async def change(method: str, agent: str, body: dict | None = None) -> None:
                    path = f"/api/v1/agents/{ids[agent]}"
                    etag = (await http.get(path, headers=admin)).headers["etag"]
                    response = await http.request(
                        method, path, json=body, headers={**admin, "If-Match": etag}
                    )
                    assert response.status_code == 200, response.text
                    await settle()

                await turn("what's my balance", ALICE)
                await turn("bus from Kigali to Huye", JEAN)
                await change("PATCH", "payment", {"tools": ["check_balance"]})
                await turn("send 5000 to 0788000003", ALICE)
                await change(
                    "PATCH", "booking", {"status": "maintenance", "maintenance_message": CLOSED}
                )
                await turn("bus from Kigali to Huye", JEAN)
                await change("PATCH", "payment", {"status": "inactive"})
                await turn("send 5000 to 0788000003", ALICE)
                await change("DELETE", "booking")
                await turn("bus from Kigali to Huye", JEAN)
                balance = await domain.wallets.balance("easymo", ALICE)
        finally:
            _stop(process, log)
    assert balance == 50_000
    return seen


def _check_turns(seen: list[tuple[str | None, list[str]]]) -> None:
    """The turns of `_follow_http_changes`, each following the change before it."""
    agent, (search,) = seen[1]
    # The trips listed depend on today's date; their route and the agent do not.
    assert agent == "booking" and search.startswith("Trips from Kigali to Huye:\n- Trip ")
    assert seen[:1] + seen[2:] == [
        ("payment", ["Your wallet balance is 50,000 RWF."]),
        ("payment", [TABLES.reply("unavailable", "en")]),  # the transfer tool is gone
        ("booking", [CLOSED]),
        ("triage", [NO_WALLET]),  # payment disabled: triage says what it cannot do
        ("triage", [NO_BUSES]),  # booking archived: the conversation went back to triage
    ]


async def test_http_changes_reach_an_assistant_in_another_process_through_redis(
    tmp_path, fresh_pg_url: str, redis_url: str, redis_prefix: str
):
    env = _env(
        tmp_path,
        DATABASE_URL=fresh_pg_url,
        REDIS_URL=redis_url,
        AGENTGRAPH_REDIS_PREFIX=redis_prefix,
    )
    settings = Settings(
        DATABASE_URL=fresh_pg_url,
        REDIS_URL=redis_url,
        AGENTGRAPH_REDIS_PREFIX=redis_prefix,
        AGENTGRAPH_DATA_DIR=env["AGENTGRAPH_DATA_DIR"],
        AGENTGRAPH_OFFLINE="1",
        AGENTGRAPH_REGISTRY_REFRESH_SECONDS=3600,
    )

    async def nothing() -> None:
        return None

    seen = await _follow_http_changes(tmp_path, env, settings, nothing)
    _check_turns(seen)


async def test_http_changes_reach_an_assistant_in_another_process_on_sqlite(tmp_path):
    env = _env(tmp_path)
    settings = Settings(
        AGENTGRAPH_DATA_DIR=env["AGENTGRAPH_DATA_DIR"],
        AGENTGRAPH_OFFLINE="1",
        AGENTGRAPH_REGISTRY_REFRESH_SECONDS=0.2,
    )

    async def past_the_refresh() -> None:
        await asyncio.sleep(0.3)

    seen = await _follow_http_changes(tmp_path, env, settings, past_the_refresh)
    _check_turns(seen)
