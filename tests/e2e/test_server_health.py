"""Health and metrics endpoints of the real app over HTTP."""

from __future__ import annotations

import httpx

from server.app import create_app
from tests.support.live_server import live_server


async def test_health_ready_and_detailed_on_sqlite(sqlite_settings):
    async with (
        live_server(create_app(sqlite_settings)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        assert (await http.get("/health")).json() == {"status": "ok"}
        ready = await http.get("/health/ready")
        assert ready.status_code == 200
        components = ready.json()["components"]
        assert {"database", "model", "queue"} <= set(components)
        assert set(components.values()) == {"ok"}
        detailed = (await http.get("/health/detailed")).json()
        assert detailed["components"]["database"]["detail"].startswith("sqlite")
        assert detailed["components"]["database"]["latency_ms"] >= 0


async def test_ready_is_503_when_the_model_server_is_down(sqlite_settings):
    settings = sqlite_settings.model_copy(
        update={"offline": False, "openai_base_url": "http://127.0.0.1:9/v1"}
    )
    async with live_server(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        ready = await http.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["components"]["model"] == "down"


async def test_metrics_expose_turns_and_tokens(pg_settings):
    app = create_app(pg_settings)
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        await app.state.assistant.send("what is my balance", user="+250788000001", tenant="easymo")
        text = (await http.get("/metrics")).text
    assert 'agentgraph_turns_total{channel="cli",outcome="ok"}' in text
    assert 'agentgraph_llm_tokens_total{agent="triage",direction="input",model="offline"}' in text
