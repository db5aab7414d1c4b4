"""A scriptable OpenAI-compatible HTTP server for tests, and the `openai_server` fixture.

The server answers `POST /v1/chat/completions` in the wire format of the real API:
a `chat.completion` object, or, when the request has `"stream": true`, SSE lines
`data: {chat.completion.chunk}` ending with `data: [DONE]` (text deltas, tool-call
argument deltas, `finish_reason` "stop"/"tool_calls", and a final usage chunk when
`stream_options.include_usage` is set). Each request takes the next scripted response
from a queue filled with `server.script(...)`: a `Reply` (or a plain string), a
`ToolCalls`, an `HttpError` (OpenAI's `{"error": {...}}` body, optional `Retry-After`
and `retry-after-ms` headers) or a `Delay` in front of any of those. With the queue
empty it answers 500, so a test never passes on an unscripted call, unless
`server.otherwise(response)` names the answer to every unscripted request (an LLM that
answers 429 until the end). `server.held` counts requests waiting in a `Delay` right
now: a test proves the client gave up on a slow server while the server still holds
it. Every request's JSON body is appended to `server.requests` (headers to
`server.headers`) before it is answered. The server runs under uvicorn in a daemon
thread on 127.0.0.1 and a port the OS picks; `server.base_url` ends in `/v1`. The
`openai_server` fixture starts one per test (about 20 ms) and stops it afterwards,
cutting any pending `Delay` short.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.openai_wire import (
    Delay,
    HttpError,
    Reply,
    Scripted,
    ToolCall,
    ToolCalls,
    Usage,
    rate_limited,
)

__all__ = [
    "Delay",
    "FakeOpenAIServer",
    "HttpError",
    "Reply",
    "ToolCall",
    "ToolCalls",
    "Usage",
    "openai_server",
    "rate_limited",
]


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(_approx_tokens(json.dumps(m.get("content") or "")) for m in body["messages"]) + 3


def _split_text(text: str, pieces: int = 3) -> list[str]:
    """Cut text into a few deltas the way a model streams it (at least one)."""
    if not text:
        return []
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _arguments_json(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


class FakeOpenAIServer:
    """See the module docstring. Use `start()`/`stop()` or the `openai_server` fixture."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._queue: deque[Scripted | Delay | str] = deque()
        self._default: Scripted | Delay | str | None = None
        self._held = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self.port: int = 0

    # Scripting -----------------------------------------------------------

    def script(self, *responses: Scripted | Delay | str) -> FakeOpenAIServer:
        """Queue responses, answered in order, one per request."""
        with self._lock:
            self._queue.extend(responses)
        return self

    def otherwise(self, response: Scripted | Delay | str) -> FakeOpenAIServer:
        """Answer every request the script does not cover with `response`."""
        with self._lock:
            self._default = response
        return self

    @property
    def held(self) -> int:
        """Requests waiting in a `Delay` at this moment."""
        with self._lock:
            return self._held

    @property
    def pending(self) -> int:
        """Scripted responses not yet used."""
        with self._lock:
            return len(self._queue)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _next(self) -> Scripted | Delay | str:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self._default is not None:
                return self._default
        return HttpError(
            status=500,
            message="openai_server: no scripted response left for this request",
            retry_after_ms=1,
        )

    # Wire format -----------------------------------------------------------

    def _envelope(self, body: dict[str, Any], model: str | None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-test{next(self._ids):06d}",
            "created": int(time.time()),
            "model": model or body.get("model") or "unknown",
            "system_fingerprint": "fp_test",
            "service_tier": "default",
        }

    def _completion(self, body: dict[str, Any], item: Reply | ToolCalls) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "refusal": None, "annotations": []}
        if isinstance(item, Reply):
            message["content"] = item.text
            finish = "stop"
            completion_text = item.text
        else:
            message["content"] = item.text
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_{n}_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": _arguments_json(call.arguments)},
                }
                for n, call in enumerate(item.calls)
            ]
            finish = "tool_calls"
            completion_text = (item.text or "") + json.dumps(message["tool_calls"])
        usage = item.usage or Usage(_prompt_tokens(body), _approx_tokens(completion_text))
        return {
            **self._envelope(body, item.model),
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": usage.to_wire(),
        }

    def _chunks(self, body: dict[str, Any], item: Reply | ToolCalls) -> Iterator[dict[str, Any]]:
        envelope = {**self._envelope(body, item.model), "object": "chat.completion.chunk"}
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        usage_field = {"usage": None} if include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                **envelope,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
                **usage_field,
            }

        text = item.text or ""
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in _split_text(text):
            yield chunk({"content": piece})
        completion_text = text
        if isinstance(item, ToolCalls):
            for n, call in enumerate(item.calls):
                args = _arguments_json(call.arguments)
                completion_text += call.name + args
                yield chunk(
                    {
                        "tool_calls": [
                            {
                                "index": n,
                                "id": call.id or f"call_{n}_{next(self._ids)}",
                                "type": "function",
                                "function": {"name": call.name, "arguments": ""},
                            }
                        ]
                    }
                )
                for piece in _split_text(args, pieces=max(2, len(args) // 8)):
                    yield chunk({"tool_calls": [{"index": n, "function": {"arguments": piece}}]})
            yield chunk({}, "tool_calls")
        else:
            yield chunk({}, "stop")
        if include_usage:
            usage = item.usage or Usage(_prompt_tokens(body), _approx_tokens(completion_text))
            yield {**envelope, "choices": [], "usage": usage.to_wire()}

    # HTTP ------------------------------------------------------------------

    async def _chat_completions(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        item = self._next()
        if isinstance(item, Delay):
            assert self._stopping is not None
            with self._lock:
                self._held += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=item.seconds)
            finally:
                with self._lock:
                    self._held -= 1
            item = item.then
        if isinstance(item, str):
            item = Reply(item)
        if isinstance(item, HttpError):
            return JSONResponse(item.body(), status_code=item.status, headers=item.headers())
        if body.get("stream"):
            chunks = list(self._chunks(body, item))

            async def events() -> AsyncIterator[bytes]:
                for c in chunks:
                    yield f"data: {json.dumps(c)}\n\n".encode()
                yield b"data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        return JSONResponse(self._completion(body, item))

    async def _not_found(self, request: Request) -> Response:
        return JSONResponse(
            HttpError(404, f"Unknown path {request.url.path}", code="not_found").body(),
            status_code=404,
        )

    # Lifecycle ---------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FakeOpenAIServer:
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
            ]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def serve() -> None:
                self._stopping = asyncio.Event()
                await server.serve(sockets=[sock])

            try:
                loop.run_until_complete(serve())
            finally:
                sock.close()
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.005)
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Stop serving and cut pending delays short. With `wait=False` the port closes
        in the background (uvicorn needs about 0.2 s), which the fixture uses so that
        teardown costs nothing; every server has its own port, so nothing collides."""
        if self._server is None or self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._server.should_exit = True
        if wait:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None


@pytest.fixture(name="openai_server")
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A running fake OpenAI server for one test: `.base_url`, `.script(...)`, `.requests`.

    The explicit name lets a module import it under another name (no F811 clash with
    test arguments) and still get the fixture `openai_server`."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop(wait=False)
