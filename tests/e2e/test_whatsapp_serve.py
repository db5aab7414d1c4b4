"""`agentgraph serve` as a real process: the webhook answers, dev-mode replies land in
`/dev/outbox`, `/metrics` carries the channel's metrics, logs mask phone numbers,
and `--workers 2` runs on Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.whatsapp import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    REPO_ROOT,
    USER,
    signed_headers,
    text_message,
    webhook,
)

pytestmark = pytest.mark.slow


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "AGENTGRAPH_"))}
    env.update(
        {
            "AGENTGRAPH_OFFLINE": "1",
            "AGENTGRAPH_DATA_DIR": str(tmp_path / "data"),
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "LANGSMITH_TRACING": "false",
        }
    )
    env.update(extra)
    return env


def _spawn(env, log, port: int, args: tuple[str, ...]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "agentgraph.cli", "serve", "--port", str(port), *args],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def _serve(env, log_path, *args: str):
    port = free_port()
    log = log_path.open("wb")
    process = _spawn(env, log, port, args)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(300):
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(log_path.read_text())
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("server did not become ready:\n" + log_path.read_text())
    return process, url, log


def _upgrade(env) -> None:
    subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "db", "upgrade"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _stop(process, log) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


async def _wait_for_outbox(http: httpx.AsyncClient, count: int) -> list[dict]:
    for _ in range(200):
        messages = (await http.get("/dev/outbox")).json()["messages"]
        if len(messages) >= count:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"dev outbox has {len(messages)} messages, expected {count}")


async def test_serve_runs_the_webhook_in_dev_mode_with_metrics(tmp_path):
    process, url, log = await _serve(_env(tmp_path), tmp_path / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            raw = webhook([text_message("hi")])
            response = await http.post(
                "/webhooks/whatsapp", content=raw, headers=signed_headers(raw)
            )
            assert response.status_code == 200
            await http.post("/webhooks/whatsapp", content=raw, headers=signed_headers(raw))
            [reply] = await _wait_for_outbox(http, 1)
            assert reply["to"] == USER and reply["status"] == "dev"
            detailed = (await http.get("/health/detailed")).json()["components"]
            assert detailed["queue"]["status"] == "ok"
            metrics = (await http.get("/metrics")).text
    finally:
        _stop(process, log)
    for name in (
        'agentgraph_webhook_requests_total{outcome="ok"} 2.0',
        "agentgraph_webhook_ack_seconds_bucket",
        "agentgraph_dedup_hits_total 1.0",
        "agentgraph_queue_depth",
        'agentgraph_outbound_messages_total{status="dev"} 1.0',
        'agentgraph_turn_seconds_count{channel="whatsapp"} 1.0',
        'agentgraph_llm_tokens_total{agent="triage",direction="input",model="offline"}',
    ):
        assert name in metrics, name
    logs = (tmp_path / "serve.log").read_text()
    assert USER not in logs


def test_serve_refuses_several_workers_without_redis(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "serve", "--workers", "2"],
        env=_env(tmp_path),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "REDIS_URL" in result.stderr


def test_serve_refuses_production_without_a_secret(tmp_path):
    env = _env(tmp_path, AGENTGRAPH_PRODUCTION="true")
    del env["WHATSAPP_APP_SECRET"]
    result = subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "serve"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "WHATSAPP_APP_SECRET" in result.stderr


def test_serve_refuses_production_without_a_jwt_secret(tmp_path):
    env = _env(tmp_path, AGENTGRAPH_PRODUCTION="true", ENGAGEMENT_API_TOKEN="ws-s3cret")
    result = subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "serve"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "AGENTGRAPH_JWT_SECRET is required in production mode" in result.stderr


async def test_serve_with_two_workers_on_redis(tmp_path, fresh_pg_url, redis_url, redis_prefix):
    env = _env(
        tmp_path,
        DATABASE_URL=fresh_pg_url,
        REDIS_URL=redis_url,
        AGENTGRAPH_REDIS_PREFIX=redis_prefix,
        AGENTGRAPH_DEBOUNCE_SECONDS="0",
    )
    # Migrate once first: processes setting up one fresh database at the same instant can
    # block each other in the LangGraph store's CREATE INDEX CONCURRENTLY.
    _upgrade(env)
    process, url, log = await _serve(env, tmp_path / "serve2.log", "--workers", "2")
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            users = [f"97250000{n:04d}" for n in range(6)]
            for user in users:
                raw = webhook([text_message("what is my balance", wa_id=user)])
                response = await http.post(
                    "/webhooks/whatsapp", content=raw, headers=signed_headers(raw)
                )
                assert response.status_code == 200
            replies = await _wait_for_outbox(http, len(users))
            ready = (await http.get("/health/ready")).json()["components"]
    finally:
        _stop(process, log)
    assert sorted(r["to"] for r in replies) == sorted(users)
    assert ready["redis"] == "ok" and ready["queue"] == "ok"


async def test_the_access_log_masks_tokens_and_phone_numbers(tmp_path):
    """Every line of `agentgraph serve` goes through the masking: query-string tokens
    and phone numbers in request paths included."""
    env = _env(tmp_path, WHATSAPP_VERIFY_TOKEN="verify-s3cret", ENGAGEMENT_API_TOKEN="ws-s3cret")
    process, url, log = await _serve(env, tmp_path / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            handshake = await http.get(
                "/webhooks/whatsapp",
                params={
                    "hub.mode": "subscribe",
                    "hub.verify_token": "verify-s3cret",
                    "hub.challenge": "4242",
                },
            )
            assert handshake.text == "4242"
            outbox = await http.get("/dev/outbox", params={"to": "250788123456"})
            assert outbox.status_code == 200
            settings = await http.get("/v1/events/ev1/settings", params={"token": "ws-s3cret"})
            assert settings.status_code == 200
    finally:
        _stop(process, log)
    logs = (tmp_path / "serve.log").read_text()
    assert "GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=***" in logs
    assert "verify-s3cret" not in logs and "ws-s3cret" not in logs
    assert "250788123456" not in logs and "/dev/outbox?to=2507******56" in logs
    assert "token=***" in logs
