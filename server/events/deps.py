"""What the event routes may ask for: the process's engagement service, valid ids, and
the optional shared secret.

When `ENGAGEMENT_API_TOKEN` is set, the organizer and signal WebSockets and `PUT
/settings` require it, as the query parameter `token` or an `Authorization: Bearer`
header: HTTP answers 401 without it, a WebSocket is closed with code 1008 before it
is accepted. Unset, the routes are open (put them behind your own gateway).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, WebSocket
from starlette.requests import HTTPConnection

from agentgraph.engagement.service import EngagementService

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

EventId = Annotated[str, Path(pattern=ID_PATTERN, description="1-64 of A-Z a-z 0-9 _ -")]


def get_engagement(request: Request) -> EngagementService:
    """The process's `EngagementService`, set on `app.state` by `open_conductor`."""
    service: EngagementService = request.app.state.engagement
    return service


EngagementDep = Annotated[EngagementService, Depends(get_engagement)]


def token_ok(connection: HTTPConnection) -> bool:
    """True when no token is configured or the connection presents the right one."""
    service: EngagementService = connection.app.state.engagement
    secret = service.settings.engagement_api_token
    expected = secret.get_secret_value() if secret is not None else ""
    if not expected:
        return True
    given = connection.query_params.get("token")
    header = connection.headers.get("authorization", "")
    if given is None and header[:7].lower() == "bearer ":
        given = header[7:].strip()
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def require_token(request: Request) -> None:
    """Dependency for HTTP routes: 401 unless the shared secret is presented."""
    if not token_ok(request):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong engagement API token",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def refuse_unauthorized(websocket: WebSocket) -> bool:
    """Close a WebSocket with 1008 (before accepting) when the token is wrong; True if so."""
    if token_ok(websocket):
        return False
    await websocket.close(code=1008, reason="missing or wrong engagement API token")
    return True


TokenDep = Depends(require_token)
