"""Helpers for WhatsApp channel tests: the shared fixtures, signing, payload builders,
and waiting for the channel to finish its work.

`FIXTURES` is `../shared/fixtures/whatsapp/` beside the repository (as in CI, where
`shared/` is cloned next to `main/`); a missing directory fails loudly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.whatsapp.signature import sign
from server.app import create_app
from tests.support.echo_model import EchoChatModel
from tests.support.live_server import live_server

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "whatsapp"

APP_SECRET = "1222e786b144d0e85b9f365372d93676"  # the signature vector's secret
PHONE_NUMBER_ID = "1122334455667"  # the business number of the shared fixtures
USER = "972987654321"

_ids = itertools.count(1)


def fixture_bytes(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(
            f"WhatsApp fixture {path} is missing: the suite expects shared/ beside the "
            "repository (../shared/fixtures/whatsapp)",
            pytrace=False,
        )
    return path.read_bytes()


def fixture_names() -> list[str]:
    if not FIXTURES.is_dir():
        return ["<missing shared/fixtures/whatsapp>"]
    return sorted(p.name for p in FIXTURES.glob("*.json"))


def signed_headers(raw: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(raw, secret), "Content-Type": "application/json"}


def message_id() -> str:
    return f"wamid.test.{next(_ids)}"


def text_message(body: str, *, wa_id: str = USER, mid: str | None = None) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": mid or message_id(),
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": body},
    }


def button_reply(reply_id: str, title: str, *, wa_id: str = USER) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": message_id(),
        "timestamp": "1700000000",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def webhook(
    messages: list[dict[str, Any]] | None = None,
    *,
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
    }
    if messages:
        value["messages"] = messages
        value["contacts"] = [{"profile": {"name": "Test"}, "wa_id": messages[0]["from"]}]
    if statuses:
        value["statuses"] = statuses
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def settle(channel: Any, within: float = 20.0) -> None:
    """Wait until the work queue is drained, every inbound message is answered and no
    reply is waiting to go; `within` only turns a hang into a failure."""
    # A server that leaves its in-process queue to nobody (worker processes recover
    # from the inbox instead) never drains it: only a queue someone consumes counts.
    consumed = channel.redis is not None or channel.settings.server_consumes_queue
    deadline = asyncio.get_running_loop().time() + within
    while True:
        jobs = await channel.queue.depth() if consumed else 0
        depth = await channel.inbox.depth()
        busy = await channel.outbox.unsent_count()
        if jobs == 0 and depth == 0 and not busy:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"channel did not settle: {jobs} jobs, {depth} queued, {busy} unsent"
            )
        await asyncio.sleep(0.02)


def channel_settings(settings: Any, sink_url: str | None, **overrides: Any) -> Any:
    """`settings` configured for the fixtures' business number and the sink."""
    update: dict[str, Any] = {
        "whatsapp_app_secret": SecretStr(APP_SECRET),
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_verify_token": SecretStr("verify-me"),
        "debounce_seconds": 0.0,
        "outbox_backoff_seconds": 0.01,
    }
    if sink_url is not None:
        update["whatsapp_access_token"] = SecretStr("sink-token")
        update["whatsapp_api_base_url"] = f"{sink_url}/v21.0"
    update.update(overrides)
    return settings.model_copy(update=update)


@asynccontextmanager
async def running_app(
    settings: Any, model: Any = "echo", *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The real app under uvicorn; yields an HTTP client and the app's channel.

    The model is the echo model unless given; `None` uses the configured one."""
    app = create_app(settings, model=EchoChatModel() if model == "echo" else model, clock=clock)
    async with live_server(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http, app.state.whatsapp


async def post_signed(http: httpx.AsyncClient, raw: bytes) -> httpx.Response:
    return await http.post("/webhooks/whatsapp", content=raw, headers=signed_headers(raw))


def worker_env(settings: Any, **extra: str) -> dict[str, str]:
    """Environment for an `agentgraph worker` process matching `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WHATSAPP_", "AGENTGRAPH_", "DATABASE_URL", "REDIS_URL", "OPENAI_"))
    }
    env.update(
        {
            "AGENTGRAPH_OFFLINE": "1",
            "AGENTGRAPH_DATA_DIR": str(settings.data_dir),
            "AGENTGRAPH_DEBOUNCE_SECONDS": str(settings.debounce_seconds),
            "AGENTGRAPH_QUEUE_CLAIM_IDLE_SECONDS": str(settings.queue_claim_idle_seconds),
            "AGENTGRAPH_LOCK_TTL_SECONDS": str(settings.lock_ttl_seconds),
            "AGENTGRAPH_OUTBOX_BACKOFF_SECONDS": str(settings.outbox_backoff_seconds),
            "AGENTGRAPH_REDIS_PREFIX": settings.redis_prefix,
            "WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id or "",
            "WHATSAPP_API_BASE_URL": settings.whatsapp_api_base_url,
            "LANGSMITH_TRACING": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.whatsapp_access_token is not None:
        env["WHATSAPP_ACCESS_TOKEN"] = settings.whatsapp_access_token.get_secret_value()
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


class WorkerProcess:
    """An `agentgraph worker` subprocess with its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agentgraph.cli", "worker"],
            env=env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_ready(self, within: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while "worker ready" not in self.log():
            if self.process.poll() is not None or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"worker did not start:\n{self.log()}")
            await asyncio.sleep(0.05)

    async def wait_exit(self, within: float = 30.0) -> int:
        deadline = asyncio.get_running_loop().time() + within
        while self.process.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"worker still running:\n{self.log()}")
            await asyncio.sleep(0.05)
        return int(self.process.returncode)

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await self.wait_exit(within=15)
            except AssertionError:
                self.process.kill()
                self.process.wait()
        self._log.close()
