"""Run a real ASGI app under uvicorn on a free loopback port, for end-to-end tests.

    async with live_server(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client: ...

The server runs in the test's event loop (so fixtures and the app share it), runs
the app's lifespan, and is shut down cleanly when the block exits.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def live_server(
    app: Any, *, port: int | None = None, root_path: str = ""
) -> AsyncIterator[str]:
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", root_path=root_path
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
                raise RuntimeError("uvicorn exited before starting")
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start within 5 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
