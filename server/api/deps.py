"""The operator API's one authorisation dependency, and the errors every route shares.

`require(*roles)` is the only way a route names who may call it: it reads the
`Authorization: Bearer` credential (an access token or an `ak_` API key), resolves
it to a `Principal` through the process's `OperatorAuth`, and answers 401 (no or a
bad credential, with `WWW-Authenticate: Bearer`) or 403 (a role not in `roles`).
Routes receive the principal and pass it to the services, which filter every query
by its tenant; another tenant's resource is then a 404 like a missing one.
`OperatorRoute` turns the services' errors into HTTP answers in one place: not found
404, permission 403, duplicate 409, invalid 422 (naming the field), too many failed
logins 429 with `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from agentgraph.domain import DomainError
from agentgraph.operators import (
    ADMIN_ROLES,
    ALL_ROLES,
    AuthError,
    OperatorAdmin,
    OperatorAuth,
    Principal,
    Role,
    TooManyAttempts,
)

__all__ = [
    "AdminDep",
    "AdminPrincipal",
    "AnyPrincipal",
    "AuthDep",
    "ErrorBody",
    "OperatorRoute",
    "errors",
    "principal_of",
    "require",
]

TOKEN_URL = "/api/v1/auth/token"

_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="An access token from POST /api/v1/auth/token, or a service API key (ak_...).",
)


class ErrorBody(BaseModel):
    """Every error but a 422: `{"detail": "<what went wrong>"}`."""

    detail: str


_DESCRIPTIONS = {
    401: "No credential, or an invalid, expired or revoked one",
    403: "The caller's role may not do this",
    404: "No such resource in the caller's tenant",
    409: "Conflicts with an existing resource",
    429: "Too many failed logins; see Retry-After",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses (all with `ErrorBody`)."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def get_auth(request: Request) -> OperatorAuth:
    """The process's `OperatorAuth` (set on `app.state` by `open_operator_api`)."""
    auth: OperatorAuth = request.app.state.operator_auth
    return auth


def get_admin(request: Request) -> OperatorAdmin:
    """The process's `OperatorAdmin`."""
    admin: OperatorAdmin = request.app.state.operator_admin
    return admin


AuthDep = Annotated[OperatorAuth, Depends(get_auth)]
AdminDep = Annotated[OperatorAdmin, Depends(get_admin)]


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency answering the caller's `Principal` when its role is one of `roles`
    (any role when none are given); 401 or 403 otherwise."""
    allowed = roles or ALL_ROLES

    async def principal(
        request: Request, credential: Annotated[str | None, Depends(_bearer)]
    ) -> Principal:
        if not credential:
            raise _unauthorized("not signed in: send Authorization: Bearer <token or key>")
        try:
            found = await get_auth(request).authenticate(credential)
        except AuthError as exc:
            raise _unauthorized(str(exc)) from None
        if found.role not in allowed:
            raise HTTPException(403, f"this needs the role {' or '.join(allowed)}")
        return found

    principal.roles = allowed  # type: ignore[attr-defined]  # read by the route audit test
    return principal


AnyPrincipal = Annotated[Principal, Depends(require())]
AdminPrincipal = Annotated[Principal, Depends(require(*ADMIN_ROLES))]


async def principal_of(connection: HTTPConnection, credential: str) -> Principal | None:
    """Who presents `credential` on any connection (None: nobody, or no operator API)."""
    auth: OperatorAuth | None = getattr(connection.app.state, "operator_auth", None)
    if auth is None:
        return None
    try:
        return await auth.authenticate(credential)
    except AuthError:
        return None


_STATUS = {
    "operator_not_found": 404,
    "api_key_not_found": 404,
    "tenant_not_found": 404,
    "permission_denied": 403,
    "email_taken": 409,
    "conversation_not_found": 404,
    "inbox_conflict": 409,
}
_FIELD = {"invalid_email": "email", "weak_password": "password", "invalid_role": "role"}


def _domain_answer(exc: DomainError) -> JSONResponse:
    status = _STATUS.get(exc.code)
    if status is not None:
        return JSONResponse({"detail": exc.user_message}, status_code=status)
    field = getattr(exc, "field", None) or _FIELD.get(exc.code, "body")
    detail = [{"loc": ["body", field], "msg": exc.user_message, "type": exc.code}]
    return JSONResponse({"detail": detail}, status_code=422)


class OperatorRoute(APIRoute):
    """Routes whose service errors become HTTP answers (module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped to translate the services' errors."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return _domain_answer(exc)
            except TooManyAttempts as exc:
                return JSONResponse(
                    {"detail": str(exc)},
                    status_code=429,
                    headers={"Retry-After": str(exc.retry_after)},
                )

        return route
