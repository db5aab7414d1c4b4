"""The agent registry's records and the rules every stored agent satisfies.

`Agent` is one agent as a caller sees it (for a tenant: with that tenant's
configuration applied); `ModelConfig` its model settings; `AgentChange` one entry of
its audit trail. `RegistryRules` carries what the domain cannot know by itself (the
tool catalogue's names and the model allow-list) and `check_fields` turns raw field
values into stored ones or raises the dedicated error naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from agentgraph.domain.agent_errors import InvalidAgentConfig, ModelNotAllowed, UnknownTool
from agentgraph.domain.db import Row
from agentgraph.domain.timestamps import as_datetime

__all__ = [
    "AGENT_COLUMNS",
    "AGENT_STATUSES",
    "EDITABLE_FIELDS",
    "OVERRIDABLE_FIELDS",
    "Agent",
    "AgentChange",
    "AgentStatus",
    "ModelConfig",
    "RegistryRules",
    "agent_from_row",
    "check_agent",
    "check_fields",
    "stored_value",
]

AgentStatus = Literal["active", "inactive", "maintenance"]
AGENT_STATUSES: tuple[AgentStatus, ...] = ("active", "inactive", "maintenance")
KNOWN_TYPES = ("triage", "booking", "payment", "support", "engagement")

# Fields a tenant's configuration may override on a global agent; name and type are
# the agent's identity and stay.
OVERRIDABLE_FIELDS = frozenset(
    {
        "description",
        "capabilities",
        "system_prompt",
        "model_config",
        "tools",
        "status",
        "maintenance_message",
    }
)
EDITABLE_FIELDS = OVERRIDABLE_FIELDS | {"name", "agent_type"}

AGENT_COLUMNS = (
    "id, owner, name, description, agent_type, capabilities, system_prompt, model_config, "
    "tools, status, maintenance_message, created_by, created_at, updated_at, version, archived_at"
)
_JSON_FIELDS = ("capabilities", "model_config", "tools")


_TYPE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_NAME = 80
MAX_DESCRIPTION = 500
MAX_PROMPT = 20_000
MAX_CAPABILITIES = 20
MAX_CAPABILITY = 60
MAX_TOOLS = 40
MAX_MESSAGE = 500


@dataclass(frozen=True)
class ModelConfig:
    """Model settings of one agent; None means the deployment's default."""

    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The stored form: only the settings that are set."""
        values = {"model": self.model, "temperature": self.temperature}
        values["max_tokens"] = self.max_tokens
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class RegistryRules:
    """What the registry checks against: tool names and the allowed models."""

    tools: frozenset[str]
    models: frozenset[str]


@dataclass(frozen=True)
class Agent:
    """One registered agent. `tenant` is its owner (None: a global agent);
    `configured_for` names the tenant whose configuration was applied, if any.
    `version` changes with every write to the agent or to that configuration."""

    id: int
    tenant: str | None
    name: str
    description: str
    agent_type: str
    capabilities: tuple[str, ...]
    system_prompt: str | None
    model: ModelConfig
    tools: tuple[str, ...]
    status: AgentStatus
    maintenance_message: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    archived_at: datetime | None = None
    configured_for: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The agent's editable fields as plain JSON (the audit trail's before/after)."""
        return {
            "name": self.name,
            "description": self.description,
            "agent_type": self.agent_type,
            "capabilities": list(self.capabilities),
            "system_prompt": self.system_prompt,
            "model_config": self.model.as_json(),
            "tools": list(self.tools),
            "status": self.status,
            "maintenance_message": self.maintenance_message,
        }


@dataclass(frozen=True)
class AgentChange:
    """One audited write: who did `action` to the agent when, and the fields before and
    after (None before a creation). `tenant` is the scope written: the agent's owner, or
    the tenant whose configuration changed ('' for a global agent itself)."""

    id: int
    agent_id: int
    tenant: str
    action: str
    actor: str
    changed_at: datetime
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None = field(default=None)


def _text(name: str, value: Any, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidAgentConfig(name, "must be text")
    value = value.strip()
    if required and not value:
        raise InvalidAgentConfig(name, "must not be empty")
    if len(value) > limit:
        raise InvalidAgentConfig(name, f"must be at most {limit} characters")
    return value or None


def _strings(name: str, value: Any, limit: int, item_limit: int) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidAgentConfig(name, "must be a list of text values")
    items = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(items) > limit:
        raise InvalidAgentConfig(name, f"must hold at most {limit} values")
    if any(len(v) > item_limit for v in items):
        raise InvalidAgentConfig(name, f"values must be at most {item_limit} characters")
    return items


def _model_config(value: Any, rules: RegistryRules) -> dict[str, Any]:
    if isinstance(value, ModelConfig):
        value = value.as_json()
    if not isinstance(value, Mapping):
        raise InvalidAgentConfig("model_config", "must be an object")
    unknown = set(value) - {"model", "temperature", "max_tokens"}
    if unknown:
        raise InvalidAgentConfig("model_config", f"unknown setting {sorted(unknown)[0]!r}")
    model, temperature, max_tokens = (value.get(k) for k in ("model", "temperature", "max_tokens"))
    if model is not None and (not isinstance(model, str) or model not in rules.models):
        raise ModelNotAllowed(str(model), rules.models)
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise InvalidAgentConfig("model_config.temperature", "must be a number")
        if not 0 <= temperature <= 2:
            raise InvalidAgentConfig("model_config.temperature", "must be between 0 and 2")
        temperature = float(temperature)
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise InvalidAgentConfig("model_config.max_tokens", "must be a whole number")
        if not 1 <= max_tokens <= 4096:
            raise InvalidAgentConfig("model_config.max_tokens", "must be between 1 and 4096")
    return ModelConfig(model, temperature, max_tokens).as_json()


def check_fields(
    values: Mapping[str, Any], rules: RegistryRules, allowed: frozenset[str] = EDITABLE_FIELDS
) -> dict[str, Any]:
    """`values` checked and normalised (text stripped, lists de-duplicated in order);
    raises `InvalidAgentConfig`, `UnknownTool` or `ModelNotAllowed`."""
    unknown = set(values) - allowed
    if unknown:
        raise InvalidAgentConfig(sorted(unknown)[0], "is not a field that can be set here")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "name":
            out[key] = _text(key, value, MAX_NAME, required=True)
        elif key == "description":
            out[key] = _text(key, value, MAX_DESCRIPTION, required=False) or ""
        elif key == "agent_type":
            if not isinstance(value, str) or not _TYPE.match(value):
                raise InvalidAgentConfig(
                    key, f"must be a lowercase identifier such as {', '.join(KNOWN_TYPES)}"
                )
            out[key] = value
        elif key == "capabilities":
            out[key] = _strings(key, value, MAX_CAPABILITIES, MAX_CAPABILITY)
        elif key == "system_prompt":
            out[key] = _text(key, value, MAX_PROMPT, required=False)
        elif key == "model_config":
            out[key] = _model_config(value, rules)
        elif key == "tools":
            tools = _strings(key, value, MAX_TOOLS, 100)
            unknown_tools = [t for t in tools if t not in rules.tools]
            if unknown_tools:
                raise UnknownTool(unknown_tools)
            out[key] = tools
        elif key == "status":
            if value not in AGENT_STATUSES:
                raise InvalidAgentConfig(key, f"must be one of {', '.join(AGENT_STATUSES)}")
            out[key] = value
        elif key == "maintenance_message":
            out[key] = _text(key, value, MAX_MESSAGE, required=False)
    return out


def check_agent(fields: Mapping[str, Any]) -> None:
    """Rules across fields of a complete agent: maintenance needs its message, and a
    triage agent routes only (it takes no tools)."""
    if fields.get("status") == "maintenance" and not fields.get("maintenance_message"):
        raise InvalidAgentConfig(
            "maintenance_message", "an agent in maintenance needs the message users get"
        )
    if fields.get("agent_type") == "triage" and fields.get("tools"):
        raise InvalidAgentConfig("tools", "a triage agent only routes; it takes no tools")


def _fields_of(row: Row) -> dict[str, Any]:
    fields = {k: row[k] for k in EDITABLE_FIELDS}
    for key in _JSON_FIELDS:
        fields[key] = json.loads(row[key])
    return fields


def agent_from_row(row: Row, config: Row | None = None) -> Agent:
    """An `agents` row as an `Agent`, with a tenant configuration row applied."""
    fields = _fields_of(row)
    version = int(row["version"])
    if config is not None:
        fields.update(json.loads(config["configuration"]))
        version += int(config["version"])
    model = fields["model_config"]
    return Agent(
        id=int(row["id"]),
        tenant=row["owner"] or None,
        name=fields["name"],
        description=fields["description"],
        agent_type=fields["agent_type"],
        capabilities=tuple(fields["capabilities"]),
        system_prompt=fields["system_prompt"],
        model=ModelConfig(model.get("model"), model.get("temperature"), model.get("max_tokens")),
        tools=tuple(fields["tools"]),
        status=fields["status"],
        maintenance_message=fields["maintenance_message"],
        created_by=row["created_by"],
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(config["updated_at"] if config else row["updated_at"]),
        version=version,
        archived_at=as_datetime(row["archived_at"]) if row["archived_at"] else None,
        configured_for=config["tenant"] if config is not None else None,
    )


def stored_value(value: Any) -> Any:
    """A field value as stored: lists and objects as JSON text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value
