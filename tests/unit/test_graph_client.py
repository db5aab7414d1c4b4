"""The Graph API client over real sockets: its default (aiohttp) transport keeps the
same answers and the same error mapping as httpx's own."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from agentgraph.whatsapp.client import (
    GraphClient,
    GraphUnavailable,
    OutsideWindow,
    RateLimited,
    default_transport,
)

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch):
    """The machine's proxy settings must not pick the transport under test."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class TinyGraph:
    """A raw HTTP/1.1 server answering each request with the next canned response."""

    def __init__(
        self, answers: list[tuple[int, dict]], *, silent: bool = False, hang_up: bool = False
    ) -> None:
        self.answers = answers
        self.silent = silent
        self.hang_up = hang_up
        self.requests: list[tuple[str, dict, dict]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v21.0"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers, json.loads(body)))
                if self.silent:
                    await asyncio.sleep(3600)
                if self.hang_up:
                    writer.close()
                    return
                status, payload = self.answers.pop(0)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


async def test_sends_and_marks_read_over_keep_alive():
    sink = TinyGraph([(200, {"messages": [{"id": "wamid.A"}]}), (200, {"success": True})])
    async with sink as base, GraphClient(base, "tok", "123") as client:
        assert isinstance(client._transport, AiohttpTransport)
        wamid = await client.send("250788000001", {"type": "text", "text": {"body": "hi"}})
        await client.mark_read("wamid.IN")
    assert wamid == "wamid.A"
    (line1, headers1, body1), (line2, _, body2) = sink.requests
    assert line1 == "POST /v21.0/123/messages HTTP/1.1"
    assert headers1["authorization"] == "Bearer tok"
    assert body1 == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "250788000001",
        "type": "text",
        "text": {"body": "hi"},
    }
    assert line2 == "POST /v21.0/123/messages HTTP/1.1"
    assert body2["status"] == "read" and body2["typing_indicator"] == {"type": "text"}


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(429, None, RateLimited), (400, 131047, OutsideWindow), (503, None, GraphUnavailable)],
)
async def test_error_answers_map_the_same_way(status, code, error):
    sink = TinyGraph([(status, {"error": {"message": "nope", "code": code}})])
    async with sink as base, GraphClient(base, "tok", "123") as client:
        with pytest.raises(error) as caught:
            await client.send("250788000001", {"type": "text", "text": {"body": "hi"}})
    assert type(caught.value) is error
    assert "nope" in str(caught.value)


async def test_refused_connection_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with GraphClient(f"http://127.0.0.1:{port}/v21.0", "tok", "123") as client:
        with pytest.raises(GraphUnavailable) as caught:
            await client.mark_read("wamid.IN")
    assert caught.value.retryable


async def test_a_silent_server_times_out_as_retryable():
    sink = TinyGraph([], silent=True)
    async with sink as base, GraphClient(base, "tok", "123", timeout=0.3) as client:
        with pytest.raises(GraphUnavailable, match="timed out"):
            await client.send("250788000001", {"type": "text", "text": {"body": "hi"}})


def test_a_configured_proxy_keeps_httpx_transport(monkeypatch):
    limits = httpx.Limits(max_connections=5)
    assert isinstance(default_transport(limits), AiohttpTransport)
    monkeypatch.setenv("NO_PROXY", "localhost,.internal")  # exceptions alone: no proxy
    assert isinstance(default_transport(limits), AiohttpTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert default_transport(limits) is None


async def test_a_configured_proxy_carries_the_requests(monkeypatch):
    proxy = TinyGraph([(200, {"messages": [{"id": "wamid.P"}]})])
    async with proxy as proxy_base:
        monkeypatch.setenv("HTTP_PROXY", proxy_base.removesuffix("/v21.0"))
        async with GraphClient("http://graph.invalid/v21.0", "tok", "123") as client:
            assert client._client is not None  # httpx's client, which reads the proxy
            wamid = await client.send("250788000001", {"type": "text", "text": {"body": "hi"}})
    assert wamid == "wamid.P"
    assert proxy.requests[0][0] == "POST http://graph.invalid/v21.0/123/messages HTTP/1.1"


async def test_a_dropped_connection_is_retryable_and_named():
    sink = TinyGraph([], hang_up=True)
    async with sink as base, GraphClient(base, "tok", "123") as client:
        with pytest.raises(GraphUnavailable, match="ServerDisconnectedError") as caught:
            await client.send("250788000001", {"type": "text", "text": {"body": "hi"}})
    assert caught.value.retryable
