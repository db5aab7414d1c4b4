"""`GET|POST /webhooks/whatsapp` and `GET /dev/outbox`.

GET answers Meta's verification handshake: 200 with the challenge when
`hub.mode=subscribe` and `hub.verify_token` matches `WHATSAPP_VERIFY_TOKEN`, else
403. POST checks, in this order: body size (over 3 MB: 413), `X-Hub-Signature-256`
over the raw bytes when `WHATSAPP_APP_SECRET` is set (missing: 401, wrong: 403),
JSON shape (400, nothing processed); then the channel stores and enqueues the
updates and the answer is 200 without waiting for any model. Each POST runs in a
`webhook` span (kind SERVER, a new trace: a caller's trace headers are not trusted)
with the status code, the outcome and the count of messages and duplicates; the
queue's `queue.put` spans are its children. `GET /dev/outbox`
exists in dev mode only (no `WHATSAPP_ACCESS_TOKEN`, not production): the replies
that would have gone to Meta, oldest first.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.types import Receive, Scope, Send

from agentgraph.config import Settings
from agentgraph.observability import otel
from agentgraph.observability.otel import SpanKind
from agentgraph.runtime.channel import WhatsAppChannel
from agentgraph.runtime.channel_metrics import ACK_SECONDS, WEBHOOK_REQUESTS
from agentgraph.whatsapp.payloads import InvalidPayload, parse_webhook
from agentgraph.whatsapp.signature import verify_signature
from server.deps import SettingsDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["whatsapp"])

MAX_BODY_BYTES = 3 * 1024 * 1024
WEBHOOK_PATH = "/webhooks/whatsapp"


def _channel(request: Request) -> WhatsAppChannel:
    channel: WhatsAppChannel = request.app.state.whatsapp
    return channel


@router.get(WEBHOOK_PATH, response_class=PlainTextResponse)
async def verify(
    settings: SettingsDep,
    mode: str = Query(default="", alias="hub.mode"),
    token: str = Query(default="", alias="hub.verify_token"),
    challenge: str = Query(default="", alias="hub.challenge"),
) -> PlainTextResponse:
    """Meta's subscription handshake."""
    expected = settings.whatsapp_verify_token
    if (
        mode == "subscribe"
        and expected is not None
        and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        return PlainTextResponse(challenge)
    raise HTTPException(status_code=403, detail="verification failed")


async def _read_limited(request: Request) -> bytes | None:
    """The body, or None once it exceeds MAX_BODY_BYTES (the rest is not read)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(status: int, outcome: str, detail: str, started: float) -> JSONResponse:
    WEBHOOK_REQUESTS.labels(outcome).inc()
    otel.annotate(webhook_outcome=outcome)
    ACK_SECONDS.observe(time.perf_counter() - started)
    return JSONResponse({"detail": detail}, status_code=status)


async def receive_webhook(request: Request) -> JSONResponse:
    """Store the notification's updates and acknowledge.

    A plain Starlette endpoint: this is the hottest request of the server, and it
    needs none of FastAPI's parameter parsing or dependency solving. The app built by
    `server.app.create_app` goes further and calls it through `webhook_asgi`, ahead of
    the middleware stack and the route table."""
    attributes: otel.Attributes = {"http.request.method": "POST", "url.path": WEBHOOK_PATH}
    with otel.span("webhook", attributes, kind=SpanKind.SERVER, parent=otel.NEW_TRACE) as span:
        response = await _receive_webhook(request)
        if span is not None:
            span.set_attribute("http.response.status_code", response.status_code)
        return response


async def _receive_webhook(request: Request) -> JSONResponse:
    started = time.perf_counter()
    settings: Settings = request.app.state.settings
    raw = await _read_limited(request)
    if raw is None:
        return _refuse(413, "too_large", "body over 3 MB", started)
    secret = settings.whatsapp_app_secret
    if secret is not None:
        header = request.headers.get("x-hub-signature-256")
        if not header:
            return _refuse(401, "unauthorized", "missing X-Hub-Signature-256", started)
        if not verify_signature(raw, header, secret.get_secret_value()):
            return _refuse(403, "forbidden", "invalid signature", started)
    try:
        body = parse_webhook(raw)
    except InvalidPayload as exc:
        return _refuse(400, "invalid", str(exc), started)
    try:
        await _channel(request).ingest(body)
    except Exception as exc:
        # Not acknowledged, so Meta delivers the notification again later; whatever
        # part was stored is deduplicated then.
        log.exception("storing a webhook failed")
        otel.mark_error(exc)
        return _refuse(500, "error", "could not store the notification", started)
    WEBHOOK_REQUESTS.labels("ok").inc()
    otel.annotate(webhook_outcome="ok")
    ACK_SECONDS.observe(time.perf_counter() - started)
    return JSONResponse({"status": "ok"})


async def webhook_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """`POST /webhooks/whatsapp` as a bare ASGI call; `scope["app"]` must be the app."""
    response = await receive_webhook(Request(scope, receive))
    await response(scope, receive, send)


router.add_route(WEBHOOK_PATH, receive_webhook, methods=["POST"])


@router.get("/dev/outbox")
async def dev_outbox(
    request: Request,
    settings: SettingsDep,
    thread_id: str | None = None,
    to: str | None = Query(default=None, pattern=r"^[0-9]{6,15}$"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """Replies kept locally in dev mode (404 when a real access token is configured), of
    one thread (`thread_id`) and/or one recipient (`to`: the WhatsApp id, digits only)."""
    channel = _channel(request)
    if settings.production or not channel.dev_mode:
        raise HTTPException(status_code=404, detail="Not Found")
    rows = await channel.outbox.recent(limit, thread_id=thread_id, recipient=to)
    return {"messages": [row.as_json() for row in rows]}
