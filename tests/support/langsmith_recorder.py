"""A local stand-in for the LangSmith API that records every run the client uploads.

    recorder = LangSmithRecorder()
    async with live_server(recorder.app) as url:   # LANGSMITH_ENDPOINT = url
        ...                                        # run traced code, flush the client
        recorder.runs                              # {run id: merged post + patch fields}

The client posts batches to `/runs/multipart` (one part per run field: `post.{id}`,
`post.{id}.inputs`, `patch.{id}.outputs`, ...) and falls back to `/runs/batch`
(JSON). Both are decoded and merged per run id; `raw` keeps every body as received so
a test can search the bytes that left the process, whatever their shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class LangSmithRecorder:
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/info", self._info, methods=["GET"]),
                Route("/runs/multipart", self._multipart, methods=["POST"]),
                Route("/runs/batch", self._batch, methods=["POST"]),
                Route("/runs", self._single, methods=["POST"]),
                Route("/runs/{run_id}", self._patch, methods=["PATCH"]),
            ]
        )

    @property
    def body(self) -> bytes:
        """Every byte the client uploaded, in order."""
        return b"\n".join(self.raw)

    def roots(self) -> list[dict[str, Any]]:
        """Runs without a parent, in start order."""
        found = [r for r in self.runs.values() if not r.get("parent_run_id")]
        return sorted(found, key=lambda r: str(r.get("dotted_order", "")))

    def children_of(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for r in self.runs.values() if r.get("parent_run_id") == run["id"]]

    def _merge(self, run_id: str, fields: dict[str, Any]) -> None:
        run = self.runs.setdefault(run_id, {"id": run_id})
        for key, value in fields.items():
            if value is not None or key not in run:
                run[key] = value

    async def _info(self, request: Request) -> Response:
        return JSONResponse({"version": "recorder", "batch_ingest_config": {}})

    async def _multipart(self, request: Request) -> Response:
        body = await request.body()
        encoding = request.headers.get("content-encoding", "")
        if encoding == "zstd":
            import zstandard

            body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
        self.raw.append(body)
        header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition") or ""
            payload = part.get_payload(decode=True) or b""
            kind, _, rest = str(name).partition(".")
            run_id, _, field_name = rest.partition(".")
            if kind not in ("post", "patch") or not run_id:
                continue  # feedback, attachments
            value = json.loads(payload) if payload else None
            if field_name:
                self._merge(run_id, {field_name: value})
            elif isinstance(value, dict):
                self._merge(run_id, value)
        return JSONResponse({}, status_code=202)

    async def _batch(self, request: Request) -> Response:
        body = await request.body()
        self.raw.append(body)
        data = json.loads(body)
        for run in list(data.get("post", [])) + list(data.get("patch", [])):
            self._merge(str(run["id"]), run)
        return JSONResponse({}, status_code=202)

    async def _single(self, request: Request) -> Response:
        body = await request.body()
        self.raw.append(body)
        run = json.loads(body)
        self._merge(str(run["id"]), run)
        return JSONResponse({}, status_code=202)

    async def _patch(self, request: Request) -> Response:
        body = await request.body()
        self.raw.append(body)
        self._merge(request.path_params["run_id"], json.loads(body))
        return JSONResponse({}, status_code=202)
