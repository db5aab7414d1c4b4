"""Request and response bodies of the agent registry's routes (`/agents`, `/tools`).

Requests refuse unknown fields and bound every string and list with the registry's
own limits (`agentgraph.domain.agent_records`), so a body that breaks them is a 422
naming the field before the registry sees it; what only the registry knows (tool
names, the model allow-list, cross-field rules) is its 422, naming the field too.
Text must be storable as is: a NUL character (valid in JSON, refused by Postgres) is
a 422, not a database error. `model_config` is spelled as on the wire;
in Python it is `llm` (pydantic reserves the name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from agentgraph.domain.agent_configurations import AgentConfiguration
from agentgraph.domain.agent_records import (
    MAX_CAPABILITIES,
    MAX_CAPABILITY,
    MAX_DESCRIPTION,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_PROMPT,
    MAX_TOOLS,
    Agent,
    AgentChange,
)
from agentgraph.operators.agent_admin import CatalogueTool
from server.api.schemas import TenantSlug


def _storable(value: str) -> str:
    # pydantic already refuses an unpaired surrogate as a string; a NUL it lets through.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Storable = AfterValidator(_storable)
Status = Literal["active", "inactive", "maintenance"]
AgentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME), Storable
]
AgentType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION), Storable]
Prompt = Annotated[str, StringConstraints(max_length=MAX_PROMPT), Storable]
Message = Annotated[str, StringConstraints(max_length=MAX_MESSAGE), Storable]
Capability = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CAPABILITY), Storable]
ToolName = Annotated[str, StringConstraints(min_length=1, max_length=100), Storable]
ModelName = Annotated[str, StringConstraints(max_length=100), Storable]
Capabilities = Annotated[list[Capability], Field(max_length=MAX_CAPABILITIES)]
ToolNames = Annotated[list[ToolName], Field(max_length=MAX_TOOLS)]

# Fields that have no "unset" value: null is refused rather than guessed at.
_NOT_NULL = ("name", "agent_type", "description", "capabilities", "tools", "status")


class ModelSettings(BaseModel):
    """Model settings of an agent; a missing one means the deployment's default."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName | None = Field(default=None, description="One of AGENTGRAPH_MODEL_ALLOWLIST")
    temperature: Annotated[float, Field(ge=0, le=2, strict=True)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=4096, strict=True)] | None = None


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the registry names them (`model_config` null: defaults)."""
        sent = self.model_dump(exclude_unset=True, by_alias=True)
        if "model_config" in sent and sent["model_config"] is None:
            sent["model_config"] = {}
        return sent

    @model_validator(mode="after")
    def _no_nulls(self) -> _Fields:
        for name in _NOT_NULL:
            if name in self.model_fields_set and getattr(self, name, "") is None:
                raise ValueError(f"{name} cannot be null")
        return self


class AgentConfigUpdate(_Fields):
    """`PATCH /agents/{id}/configuration`: the fields a tenant overrides on a global
    agent (at least one); they are merged into its configuration."""

    description: Description | None = None
    capabilities: Capabilities | None = None
    system_prompt: Prompt | None = Field(
        default=None, description="null: the shipped prompt of the agent type"
    )
    llm: ModelSettings | None = Field(default=None, alias="model_config")
    tools: ToolNames | None = Field(default=None, description="Names from GET /api/v1/tools")
    status: Status | None = None
    maintenance_message: Message | None = Field(
        default=None, description="What users are told while the status is maintenance"
    )

    @model_validator(mode="after")
    def _something(self) -> AgentConfigUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


class AgentUpdate(AgentConfigUpdate):
    """`PATCH /agents/{id}`: the fields to change (at least one)."""

    name: AgentName | None = None
    agent_type: AgentType | None = None


class AgentCreate(_Fields):
    """`POST /agents`. `tenant`: a super admin names it (none: a global agent, offered to
    every tenant); a tenant admin may leave it out (their own tenant)."""

    name: AgentName = Field(description="Unique among the tenant's live agents")
    agent_type: AgentType = Field(
        description="triage, booking, payment, support, engagement, or a later specialist"
    )
    description: Description = ""
    capabilities: Capabilities = []
    system_prompt: Prompt | None = Field(
        default=None, description="null: the shipped prompt of the agent type"
    )
    llm: ModelSettings | None = Field(default=None, alias="model_config")
    tools: ToolNames = Field(default=[], description="Names from GET /api/v1/tools")
    status: Status = "active"
    maintenance_message: Message | None = None
    tenant: TenantSlug | None = None

    def changes(self) -> dict[str, Any]:
        """The registry's fields (the tenant goes separately)."""
        fields = super().changes()
        fields.pop("tenant", None)
        fields.setdefault("model_config", None)
        if fields["model_config"] is None:
            fields["model_config"] = {}
        return fields


class ModelSettingsOut(BaseModel):
    """An agent's model settings (null: the deployment's default)."""

    model: str | None
    temperature: float | None
    max_tokens: int | None


class AgentOut(BaseModel):
    """One agent as the caller's tenant runs it. `tenant` is its owner (null: global);
    `configured_for` names the tenant whose configuration is applied, if any;
    `version` is the value of the `ETag` to send back in `If-Match`."""

    id: int
    tenant: str | None
    name: str
    description: str
    agent_type: str
    capabilities: list[str]
    system_prompt: str | None
    llm: ModelSettingsOut = Field(alias="model_config")
    tools: list[str]
    status: Status
    maintenance_message: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    configured_for: str | None
    archived_at: datetime | None = Field(description="Set once the agent is archived")

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        """The body for an agent."""
        return cls.model_validate(
            {
                "id": agent.id,
                "tenant": agent.tenant,
                "name": agent.name,
                "description": agent.description,
                "agent_type": agent.agent_type,
                "capabilities": list(agent.capabilities),
                "system_prompt": agent.system_prompt,
                "model_config": {
                    "model": agent.model.model,
                    "temperature": agent.model.temperature,
                    "max_tokens": agent.model.max_tokens,
                },
                "tools": list(agent.tools),
                "status": agent.status,
                "maintenance_message": agent.maintenance_message,
                "created_by": agent.created_by,
                "created_at": agent.created_at,
                "updated_at": agent.updated_at,
                "version": agent.version,
                "configured_for": agent.configured_for,
                "archived_at": agent.archived_at,
            }
        )


class AgentPage(BaseModel):
    """One page of agents, by id."""

    items: list[AgentOut]
    limit: int
    offset: int


class ChangeOut(BaseModel):
    """One audited change: who (`operator:<id>`, `key:<id>`, or a CLI/seed actor) did
    `action` when; the editable fields before and after (null before a creation and
    after an archive). `configuration_of` names the tenant whose configuration of a
    global agent changed (null: the agent itself changed); `version` is the agent's
    version as that tenant (or everyone) saw it after the change."""

    id: int
    action: Literal["create", "update", "reset", "delete"]
    actor: str
    changed_at: datetime
    version: int
    configuration_of: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, change: AgentChange, owner: str) -> ChangeOut:
        """The body for a change of an agent owned by `owner` ('' for a global agent)."""
        return cls(
            id=change.id,
            action=change.action,  # type: ignore[arg-type]  # the registry writes only these
            actor=change.actor,
            changed_at=change.changed_at,
            version=change.version,
            configuration_of=None if change.tenant == owner else change.tenant,
            before=change.before,
            after=change.after,
        )


class HistoryPage(BaseModel):
    """One page of an agent's audit trail, oldest first."""

    items: list[ChangeOut]
    limit: int
    offset: int


class ConfigurationOut(BaseModel):
    """A tenant's configuration of a global agent: the fields it overrides (empty: none,
    the agent runs as defined) and the agent as the tenant runs it. The `ETag` is
    `agent.version`."""

    tenant: str
    overrides: dict[str, Any]
    updated_by: str | None
    updated_at: datetime | None
    agent: AgentOut

    @classmethod
    def of(cls, tenant: str, agent: Agent, config: AgentConfiguration | None) -> ConfigurationOut:
        """The body for `tenant`'s view of `agent` and its stored configuration."""
        return cls(
            tenant=tenant,
            overrides=config.overrides if config else {},
            updated_by=config.updated_by if config else None,
            updated_at=config.updated_at if config else None,
            agent=AgentOut.of(agent),
        )


class ToolOut(BaseModel):
    """A tool an agent may be given. `moves_money` tools always pause for the user's
    explicit yes (`needs_confirmation`), whatever an agent's prompt says."""

    name: str
    description: str
    moves_money: bool
    needs_confirmation: bool
    agent_types: list[str] = Field(description="Agent types that ship with it enabled")

    @classmethod
    def of(cls, tool: CatalogueTool) -> ToolOut:
        """The body for a catalogue entry."""
        return cls(
            name=tool.name,
            description=tool.description,
            moves_money=tool.moves_money,
            needs_confirmation=tool.needs_confirmation,
            agent_types=list(tool.agent_types),
        )


class ToolCatalogue(BaseModel):
    """Every tool the registry may enable, by name."""

    items: list[ToolOut]
