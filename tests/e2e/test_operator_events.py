"""The event settings API and the organizer socket take operator credentials too: an
organizer is a tenant_admin (or a super_admin), by access token or API key, beside
ENGAGEMENT_API_TOKEN; in production they are required even without that token."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from agentgraph.config import Settings
from tests.e2e.test_engagement_ws import fast_settings
from tests.support.operators import bearer, operator_server


async def _organizer_accepts(base: str, **how: str) -> bool:
    url = base.replace("http://", "ws://") + "/v1/events/ev-ops/organizer"
    headers = {}
    if "token" in how:
        url += f"?token={how['token']}"
    if "header" in how:
        headers = bearer(how["header"])
    try:
        async with connect(url, additional_headers=headers) as ws:
            await ws.send('{"type": "nope"}')
            return json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "error"
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        return False


@pytest.mark.parametrize("production", [False, True])
async def test_organizers_use_operator_credentials_or_the_shared_token(
    sqlite_settings: Settings, production: bool
):
    extra = (
        {
            "PRODUCTION": True,
            "WHATSAPP_APP_SECRET": SecretStr("app-secret"),
            "JWT_SECRET": SecretStr("j" * 40),
        }
        if production
        else {"ENGAGEMENT_API_TOKEN": SecretStr("s3cret")}
    )
    settings = fast_settings(sqlite_settings, **extra)
    async with operator_server(settings) as op:
        admin = await op.login("admin@easymo.test")
        root = await op.login("super@ops.test")
        viewer = await op.login("viewer@easymo.test")
        key = await op.http.post(
            "/api/v1/keys",
            json={"name": "stage", "role": "tenant_admin"},
            headers=bearer(admin),
        )
        agent_key = await op.http.post(
            "/api/v1/keys", json={"name": "desk", "role": "agent"}, headers=bearer(admin)
        )
        url = "/v1/events/ev-ops/settings"
        for credential in (admin, root, key.json()["key"]):
            ok = await op.http.put(url, json={"mode": "AUTO"}, headers=bearer(credential))
            assert ok.status_code == 200 and ok.json()["mode"] == "AUTO"
            assert await _organizer_accepts(op.base_url, token=credential)
            assert await _organizer_accepts(op.base_url, header=credential)
        for refused in (viewer, agent_key.json()["key"], "nope", None):
            headers = bearer(refused) if refused else {}
            response = await op.http.put(url, json={"mode": "MANUAL"}, headers=headers)
            assert response.status_code == 401, refused
            if refused:
                assert not await _organizer_accepts(op.base_url, token=refused)
        shared = await op.http.put(url, json={"mode": "MANUAL"}, headers=bearer("s3cret"))
        assert shared.status_code == (401 if production else 200)
        assert (await op.http.get(url)).json()["mode"] == ("AUTO" if production else "MANUAL")
