"""What the event routes may ask for: the process's engagement service, valid ids, and
the credential the guarded routes need.

The organizer and signal WebSockets and `PUT /settings` accept, as the query
parameter `token` or an `Authorization: Bearer` header, either the shared secret
`ENGAGEMENT_API_TOKEN` or an operator credential of an organizer (a `tenant_admin`
or `super_admin` access token or API key, see `server.api`). They require one when
`ENGAGEMENT_API_TOKEN` is set or in production mode: HTTP answers 401 without it, a
WebSocket is closed with code 1008 before it is accepted. Otherwise (development
without the token) the routes are open.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, WebSocket
from starlette.requests import HTTPConnection

from agentgraph.engagement.service import EngagementService
from agentgraph.operators import ADMIN_ROLES
from server.api.deps import principal_of

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

EventId = Annotated[str, Path(pattern=ID_PATTERN, description="1-64 of A-Z a-z 0-9 _ -")]


def get_engagement(request: Request) -> EngagementService:
    """The process's `EngagementService`, set on `app.state` by `open_conductor`."""
    service: EngagementService = request.app.state.engagement
    return service


EngagementDep = Annotated[EngagementService, Depends(get_engagement)]


async def token_ok(connection: HTTPConnection) -> bool:
    """True when the connection presents the shared secret or an organizer's operator
    credential, or when neither is required (see the module docstring)."""
    service: EngagementService = connection.app.state.engagement
    secret = service.settings.engagement_api_token
    expected = secret.get_secret_value() if secret is not None else ""
    given = connection.query_params.get("token")
    header = connection.headers.get("authorization", "")
    if given is None and header[:7].lower() == "bearer ":
        given = header[7:].strip()
    if given and expected and hmac.compare_digest(given.encode(), expected.encode()):
        return True
    if given:
        principal = await principal_of(connection, given)
        if principal is not None and principal.role in ADMIN_ROLES:
            return True
    return not expected and not service.settings.production


async def require_token(request: Request) -> None:
    """Dependency for HTTP routes: 401 unless an accepted credential is presented."""
    if not await token_ok(request):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong engagement API token",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def refuse_unauthorized(websocket: WebSocket) -> bool:
    """Close a WebSocket with 1008 (before accepting) when the token is wrong; True if so."""
    if await token_ok(websocket):
        return False
    await websocket.close(code=1008, reason="missing or wrong engagement API token")
    return True


TokenDep = Depends(require_token)
