"""The operator API's one authorisation dependency, and the errors every route shares.

`require(*roles)` is the only way a route names who may call it: it reads the
`Authorization: Bearer` credential (an access token or an `ak_` API key), resolves
it to a `Principal` through the process's `OperatorAuth`, and answers 401 (no or a
bad credential, with `WWW-Authenticate: Bearer`) or 403 (a role not in `roles`).
Routes receive the principal and pass it to the services, which filter every query
by its tenant; another tenant's resource is then a 404 like a missing one.
`OperatorRoute` turns the services' errors into HTTP answers in one place (and
renders 422s ASCII-escaped, so echoing any input cannot fail): not found
404, permission 403, duplicate 409, invalid 422 (naming the field), too many failed
logins 429 with `Retry-After`; for the agent registry, a stale `If-Match` 412.
`IfMatch` reads the version a write was based on from `If-Match` (428 without one).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from agentgraph.domain import DomainError
from agentgraph.operators import (
    ADMIN_ROLES,
    ALL_ROLES,
    AgentAdmin,
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
    "AgentsDep",
    "AnyPrincipal",
    "AuthDep",
    "ErrorBody",
    "IfMatch",
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
    412: "If-Match names a version that is no longer current: read it again",
    428: "Send If-Match with the ETag (version) the change is based on",
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


def get_agents(request: Request) -> AgentAdmin:
    """The process's `AgentAdmin` (the agent registry's operations)."""
    agents: AgentAdmin = request.app.state.agent_admin
    return agents


AuthDep = Annotated[OperatorAuth, Depends(get_auth)]
AdminDep = Annotated[OperatorAdmin, Depends(get_admin)]
AgentsDep = Annotated[AgentAdmin, Depends(get_agents)]


def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=100,
            description='The ETag the change is based on (`"3"`), or `*` for whatever is '
            "current; a stale one is 412, none is 428.",
        ),
    ] = None,
) -> int | None:
    """The version in `If-Match` (None for `*`); 428 without the header, 412 for a
    value that can match no version."""
    if value is None:
        raise HTTPException(428, _DESCRIPTIONS[428])
    tag = value.strip()
    if tag == "*":
        return None
    tag = tag.removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 18:
        raise HTTPException(412, f"If-Match {value!r} matches no version of this agent.")
    return int(tag)


IfMatch = Annotated[int | None, Depends(if_match)]


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
    "agent_not_found": 404,
    "duplicate_agent_name": 409,
    "not_a_global_agent": 409,
    "agent_version_conflict": 412,
}
_FIELD = {
    "invalid_email": "email",
    "weak_password": "password",
    "invalid_role": "role",
    "unknown_tool": "tools",
    "model_not_allowed": "model_config.model",
}


def _domain_answer(exc: DomainError) -> JSONResponse:
    status = _STATUS.get(exc.code)
    if status is not None:
        return JSONResponse({"detail": exc.user_message}, status_code=status)
    field = getattr(exc, "field", None) or _FIELD.get(exc.code, "body")
    where = getattr(exc, "location", "body")
    loc = [where, *field.split(".")] if field != "body" else [where]
    detail = [{"loc": loc, "msg": exc.user_message, "type": exc.code}]
    return JSONResponse({"detail": detail}, status_code=422)


class _AsciiJSON(JSONResponse):
    """JSON with every non-ASCII character escaped: a 422 echoes the input, and a lone
    surrogate (valid JSON) cannot be encoded as UTF-8 (it would become a 500)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class OperatorRoute(APIRoute):
    """Routes whose service errors become HTTP answers (module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped to translate the services' errors."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _AsciiJSON({"detail": jsonable_encoder(exc.errors())}, status_code=422)
            except DomainError as exc:
                return _domain_answer(exc)
            except TooManyAttempts as exc:
                return JSONResponse(
                    {"detail": str(exc)},
                    status_code=429,
                    headers={"Retry-After": str(exc.retry_after)},
                )

        return route
