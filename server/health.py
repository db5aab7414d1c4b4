"""Health endpoints: liveness, readiness and a per-component report with latencies.

`GET /health` answers as long as the process serves HTTP. `GET /health/ready` is 200
only when every required component (database, model) answers, else 503, so a load
balancer stops routing to a broken instance. `GET /health/detailed` lists each
component with its status, latency and a short detail, and never includes secrets.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.deps import AssistantDep, SettingsDep

router = APIRouter(tags=["health"])

Check = Callable[[], Awaitable[str]]


async def _timed(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = await check()
        status = "ok"
    except Exception as exc:
        detail = f"{type(exc).__name__}"
        status = "down"
    return {
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "detail": detail,
    }


def _checks(request: Request) -> dict[str, Check]:
    assistant = request.app.state.assistant
    settings = request.app.state.settings
    extra: dict[str, Check] = getattr(request.app.state, "health_checks", {})

    async def database() -> str:
        version = await assistant.persistence.domain.schema_version()
        return f"{assistant.persistence.engine}, schema v{version}"

    async def model() -> str:
        if not settings.llm_configured:
            return "offline rule-based model"
        base = settings.openai_base_url or "https://api.openai.com/v1"
        headers = {}
        if settings.openai_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
        async with httpx.AsyncClient(timeout=3) as client:
            response = await client.get(f"{base}/models", headers=headers)
        if response.status_code >= 500:
            raise RuntimeError(f"model server answered {response.status_code}")
        return f"{settings.model} reachable"

    return {"database": database, "model": model, **extra}


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process is up."""
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(request: Request, _: AssistantDep, __: SettingsDep) -> JSONResponse:
    """Readiness: 200 when database and model answer, 503 otherwise."""
    results = {name: await _timed(check) for name, check in _checks(request).items()}
    ok = all(r["status"] == "ok" for r in results.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "components": {k: v["status"] for k, v in results.items()},
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/health/detailed")
async def detailed(request: Request, _: AssistantDep) -> dict[str, Any]:
    """Every component with status, latency and detail."""
    results = {name: await _timed(check) for name, check in _checks(request).items()}
    ok = all(r["status"] == "ok" for r in results.values())
    return {"status": "ok" if ok else "degraded", "components": results}
