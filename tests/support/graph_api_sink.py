"""A local stand-in for the Graph API that records what the server sends.

    sink = GraphApiSink()
    async with live_server(sink.app) as url:   # WHATSAPP_API_BASE_URL = f"{url}/v21.0"
        ...
        await sink.wait_for_sends(2)

It answers `POST /{version}/{phone_number_id}/messages` like Meta (a `wamid` per
send, `{"success": true}` for read receipts) and records every request. Tests can
script failures with `sink.fail_next(status, code)`: the next sends (not read
receipts) get that error answer, in order.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class SinkRequest:
    phone_number_id: str
    body: dict[str, Any]
    authorization: str | None
    wamid: str | None = None

    @property
    def is_read_receipt(self) -> bool:
        return self.body.get("status") == "read"

    @property
    def text(self) -> str | None:
        if self.body.get("type") == "text":
            return str(self.body["text"]["body"])
        if self.body.get("type") == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        return None


@dataclass
class GraphApiSink:
    requests: list[SinkRequest] = field(default_factory=list)
    failures: list[tuple[int, int | None]] = field(default_factory=list)
    refused: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[Route("/{version}/{pnid}/messages", self._messages, methods=["POST"])]
        )

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        self.failures.extend([(status, code)] * times)

    async def _messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        record = SinkRequest(
            request.path_params["pnid"], body, request.headers.get("authorization")
        )
        if body.get("status") == "read":
            self.requests.append(record)
            return JSONResponse({"success": True})
        if self.failures:
            status, code = self.failures.pop(0)
            self.refused += 1
            error = {"message": "scripted failure", "type": "OAuthException", "code": code}
            return JSONResponse({"error": error}, status_code=status)
        record.wamid = f"wamid.sink.{next(self._ids)}"
        self.requests.append(record)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": record.wamid}],
            }
        )

    @property
    def sends(self) -> list[SinkRequest]:
        return [r for r in self.requests if not r.is_read_receipt]

    @property
    def reads(self) -> list[SinkRequest]:
        return [r for r in self.requests if r.is_read_receipt]

    def texts(self, to: str | None = None) -> list[str]:
        return [r.text or "" for r in self.sends if to is None or r.body.get("to") == to]

    async def wait_for_sends(self, count: int, within: float = 15.0) -> list[SinkRequest]:
        deadline = asyncio.get_running_loop().time() + within
        while len(self.sends) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"sink got {len(self.sends)} sends, expected {count}: {self.texts()}"
                )
            await asyncio.sleep(0.02)
        return self.sends
