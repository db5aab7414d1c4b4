"""`/api/v1/auth`: log in (OAuth2 password form), refresh with rotation, log out, me.

`POST /token` takes the form fields `username` (the email) and `password` and
answers `{"access_token", "refresh_token", "token_type": "bearer", "expires_in"}`;
a wrong password, an unknown email and a deactivated account are all 401, and too
many failed logins for the account or the client address are 429 with
`Retry-After`. `POST /refresh` trades a refresh token once; `POST /logout` ends the
caller's session; `GET /me` says who the credential belongs to.
"""

from __future__ import annotations

from typing import Annotated

# FastAPI parses the login form with python-multipart; importing it here makes a
# missing install fail when the server starts, not on the first login.
import python_multipart  # noqa: F401
from fastapi import APIRouter, Form, HTTPException, Request, Response

from agentgraph.operators import AuthError
from server.api.deps import AnyPrincipal, AuthDep, OperatorRoute, errors
from server.api.schemas import Me, RefreshRequest, TokenResponse

router = APIRouter(prefix="/auth", tags=["auth"], route_class=OperatorRoute)


@router.post("/token", response_model=TokenResponse, responses=errors(401, 429))
async def login(
    request: Request,
    auth: AuthDep,
    username: Annotated[str, Form(max_length=254, description="The operator's email")],
    password: Annotated[str, Form(max_length=128)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenResponse:
    """Log in with an email and password (OAuth2 password grant)."""
    ip = request.client.host if request.client else "unknown"
    try:
        pair = await auth.login(username, password, ip)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    return TokenResponse.of(pair)


@router.post("/refresh", response_model=TokenResponse, responses=errors(401))
async def refresh(body: RefreshRequest, auth: AuthDep) -> TokenResponse:
    """Trade a refresh token for a new pair; a used one revokes its whole session."""
    try:
        pair = await auth.refresh(body.refresh_token)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    return TokenResponse.of(pair)


@router.post("/logout", status_code=204, response_class=Response, responses=errors(401))
async def logout(principal: AnyPrincipal, auth: AuthDep) -> Response:
    """End the caller's session: its access and refresh tokens stop working at once.
    (An API key is revoked with `DELETE /api/v1/keys/{id}` instead; for a key this does
    nothing.)"""
    await auth.logout(principal)
    return Response(status_code=204)


@router.get("/me", response_model=Me, responses=errors(401))
async def me(principal: AnyPrincipal) -> Me:
    """The operator or API key behind the credential."""
    return Me.of(principal)
