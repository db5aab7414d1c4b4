"""Graph API client for the WhatsApp Cloud API, on httpx.

`GraphClient(base_url, token, phone_number_id)` sends messages with
`send(to, message)` (returns the new message's `wamid`) and marks an inbound message
read with a typing indicator with `mark_read(message_id)`. Failures raise one
exception type per thing a caller handles: `RateLimited` (HTTP 429 or Meta's
throughput codes) and `GraphUnavailable` (5xx, timeouts, connection errors) are
retryable; `OutsideWindow` (131047: only templates may be sent) and every other
`GraphAPIError` are permanent. `error.retryable` tells them apart.

Requests are httpx `Request`s sent through an httpx transport backed by an aiohttp
connection pool (`httpx_aiohttp`), which costs a fifth of httpx's own client and
HTTP/1.1 stack in CPU per request (measured in `docs/benchmarks.md`); every send
and read receipt pays it. When an HTTP(S)/ALL proxy is configured in the
environment, an `httpx.AsyncClient` is used instead, because it honours those
variables. Tests pass `transport=httpx.MockTransport(...)`.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
OUTSIDE_WINDOW_CODE = 131047


class GraphAPIError(Exception):
    """The Graph API refused a request; `code` is Meta's error code when it gave one."""

    retryable = False

    def __init__(self, message: str, *, code: int | None = None, http_status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class RateLimited(GraphAPIError):
    """Too many messages (HTTP 429 or codes 4, 80007, 130429, 131056); retry later."""

    retryable = True


class GraphUnavailable(GraphAPIError):
    """A 5xx answer, a timeout or a connection failure; retry later."""

    retryable = True


class OutsideWindow(GraphAPIError):
    """131047: the 24-hour customer-service window is closed; only templates may go."""


def error_from_response(response: httpx.Response) -> GraphAPIError:
    """The exception matching a non-2xx Graph API answer."""
    code: int | None = None
    message = f"Graph API answered HTTP {response.status_code}"
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if isinstance(error, dict):
        raw_code = error.get("code")
        code = (
            int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else None
        )
        detail = error.get("message") or error.get("title")
        if detail:
            message = f"{message}: {detail}"
        if code is not None:
            message = f"{message} (code {code})"
    status = response.status_code
    if code == OUTSIDE_WINDOW_CODE:
        return OutsideWindow(message, code=code, http_status=status)
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(message, code=code, http_status=status)
    if status >= 500:
        return GraphUnavailable(message, code=code, http_status=status)
    return GraphAPIError(message, code=code, http_status=status)


def default_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport | None:
    """The aiohttp-backed transport, or None (httpx's own) when a proxy is configured."""
    # NO_PROXY alone (common in containers) configures no proxy.
    if any(scheme != "no" for scheme in urllib.request.getproxies()):
        return None
    return AiohttpTransport(limits=limits)


def _cause(exc: BaseException) -> str:
    """The failure's name; the aiohttp error behind httpx's mapping when there is one
    (that mapping calls a dropped connection a connect timeout)."""
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("aiohttp"):
        return f"{type(exc).__name__} ({type(cause).__name__})"
    return type(exc).__name__


class GraphClient:
    """Sends for one business phone number. Close with `aclose()` (or `async with`)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        phone_number_id: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.phone_number_id = phone_number_id
        self._base = base_url.rstrip("/") + "/"
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._timeout = httpx.Timeout(timeout)
        self._urls: dict[str, httpx.URL] = {}
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        chosen = transport or default_transport(limits)
        # Requests go straight to the transport: one fixed URL per sender, no cookies,
        # auth flow or redirects, which is all the client layer would add here. With a
        # proxy configured, httpx's client picks the proxied transport itself.
        self._transport: httpx.AsyncBaseTransport | None = chosen
        self._client: httpx.AsyncClient | None = (
            None if chosen is not None else httpx.AsyncClient(timeout=timeout, limits=limits)
        )

    def _url(self, sender: str) -> httpx.URL:
        url = self._urls.get(sender)
        if url is None:
            url = self._urls[sender] = httpx.URL(f"{self._base}{sender}/messages")
        return url

    async def _exchange(self, url: httpx.URL, content: bytes) -> httpx.Response:
        if self._client is not None:
            return await self._client.post(url, content=content, headers=self._headers)
        assert self._transport is not None
        request = httpx.Request(
            "POST",
            url,
            headers=self._headers,
            content=content,
            extensions={"timeout": self._timeout.as_dict()},
        )
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def _post(self, body: dict[str, Any], phone_number_id: str | None) -> dict[str, Any]:
        url = self._url(phone_number_id or self.phone_number_id)
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = await self._exchange(url, content)
        except httpx.TimeoutException as exc:
            raise GraphUnavailable(f"Graph API timed out: {_cause(exc)}") from exc
        except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
            raise GraphUnavailable(f"Graph API unreachable: {_cause(exc)}") from exc
        if response.status_code >= 300:
            raise error_from_response(response)
        try:
            data = response.json()
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    async def send(
        self,
        to: str,
        message: dict[str, Any],
        *,
        phone_number_id: str | None = None,
        callback_data: str | None = None,
    ) -> str:
        """Send `message` (a formatting.* body) to `to`; returns the wamid.

        `callback_data` goes out as `biz_opaque_callback_data`, which Meta hands back
        on every status webhook of the message (so a status can name our row even
        when the wamid was never recorded)."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body.update(message)
        if callback_data is not None:
            body["biz_opaque_callback_data"] = callback_data
        data = await self._post(body, phone_number_id)
        messages = data.get("messages") or [{}]
        return str(messages[0].get("id", ""))

    async def mark_read(
        self, message_id: str, *, typing: bool = True, phone_number_id: str | None = None
    ) -> None:
        """Mark an inbound message read and show the typing indicator (clears on reply)."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._post(body, phone_number_id)

    async def aclose(self) -> None:
        """Close the connection pool, a `transport` passed in included; sends fail afterwards."""
        if self._client is not None:
            await self._client.aclose()
        elif self._transport is not None:
            await self._transport.aclose()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
