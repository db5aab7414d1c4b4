"""Request and response bodies of the operator API (pydantic, at the HTTP edge).

Request bodies refuse unknown fields (`extra="forbid"`), bound every string, and
answer 422 naming the field that broke the schema. Responses never carry a password
hash, an API key's hash or, after creation, the key itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from agentgraph.domain.api_keys import ApiKey
from agentgraph.domain.operators import Operator
from agentgraph.operators import Principal, TokenPair

Role = Literal["super_admin", "tenant_admin", "agent", "viewer"]
KeyRole = Literal["tenant_admin", "agent", "viewer"]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
TenantSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
MAX_PAGE = 100


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenResponse(BaseModel):
    """A login's or a refresh's answer (OAuth2 token response)."""

    access_token: str = Field(description="JWT for `Authorization: Bearer`, valid 30 minutes")
    refresh_token: str = Field(description="Trade it once at /auth/refresh; valid one day")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid")

    @classmethod
    def of(cls, pair: TokenPair) -> TokenResponse:
        """The body for a `TokenPair`."""
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )


class RefreshRequest(_Request):
    """`POST /auth/refresh`: the refresh token to trade (it then stops working)."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class Me(BaseModel):
    """Who the credential belongs to."""

    kind: Literal["operator", "api_key"]
    id: int
    role: Role
    tenant: str | None
    email: str | None = Field(default=None, description="Operators only")
    name: str | None = Field(default=None, description="API keys only")

    @classmethod
    def of(cls, principal: Principal) -> Me:
        """The body for a principal."""
        return cls(
            kind=principal.kind,
            id=principal.id,
            role=principal.role,
            tenant=principal.tenant,
            email=principal.email,
            name=principal.name,
        )


class UserCreate(_Request):
    """`POST /users`. `tenant`: a super admin names it (none for a super_admin); a tenant
    admin may leave it out (their own tenant)."""

    email: Email
    password: Password
    role: Role
    tenant: TenantSlug | None = None


class UserUpdate(_Request):
    """`PATCH /users/{id}`: the fields to change (at least one). `password` resets it and
    ends the operator's sessions; `active: false` does too; `tenant` is a super admin's."""

    role: Role | None = None
    active: bool | None = None
    password: Password | None = None
    tenant: TenantSlug | None = None

    @model_validator(mode="after")
    def _something(self) -> UserUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of role, active, password, tenant")
        for name in ("role", "active", "password"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class User(BaseModel):
    """An operator account."""

    id: int
    email: str
    role: Role
    tenant: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, operator: Operator) -> User:
        """The body for an operator."""
        return cls.model_validate(operator, from_attributes=True)


class UserPage(BaseModel):
    """One page of operators, by id."""

    items: list[User]
    limit: int
    offset: int


class KeyCreate(_Request):
    """`POST /keys`. `tenant`: required of a super admin; a tenant admin's own otherwise."""

    name: KeyName
    role: KeyRole
    tenant: TenantSlug | None = None


class Key(BaseModel):
    """An API key as listed: its visible prefix, never the key."""

    id: int
    name: str
    prefix: str
    tenant: str
    role: KeyRole
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> Key:
        """The body for a stored key."""
        return cls.model_validate(key, from_attributes=True)


class KeyCreated(Key):
    """A new key, with the secret itself: shown this once, never again."""

    key: str = Field(description="Send as `Authorization: Bearer ak_...`; store it now")


class KeyPage(BaseModel):
    """One page of keys, revoked ones included, by id."""

    items: list[Key]
    limit: int
    offset: int
