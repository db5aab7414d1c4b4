"""Failures of the agent registry, one class per failure an operator can cause.

They derive from `DomainError` like every other domain failure (a `.user_message`
safe to show, a stable `.code`), and the operator API maps each to one status:
`AgentNotFound` 404, `DuplicateAgentName` 409, `UnknownTool`, `ModelNotAllowed` and
`InvalidAgentConfig` 422 (naming the field), `AgentVersionConflict` 412.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentgraph.domain.errors import DomainError

__all__ = [
    "AgentNotFound",
    "AgentVersionConflict",
    "DuplicateAgentName",
    "InvalidAgentConfig",
    "ModelNotAllowed",
    "UnknownTool",
]


class AgentNotFound(DomainError):
    """Raised when no live agent has this id for the caller's tenant (another tenant's
    agent is not found either, so its existence never leaks)."""

    code = "agent_not_found"

    def __init__(self, agent_id: object) -> None:
        self.agent_id = agent_id
        super().__init__(f"There is no agent {agent_id}.")


class DuplicateAgentName(DomainError):
    """Raised when a tenant (or the global scope) already has a live agent of this name."""

    code = "duplicate_agent_name"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"An agent named '{name}' already exists.")


class UnknownTool(DomainError):
    """Raised when enabled tools name something outside the tool catalogue."""

    code = "unknown_tool"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(names)
        listed = ", ".join(f"'{n}'" for n in self.names)
        super().__init__(f"Unknown tool {listed}: choose tools from the tool catalogue.")


class ModelNotAllowed(DomainError):
    """Raised when a model config names a model outside AGENTGRAPH_MODEL_ALLOWLIST."""

    code = "model_not_allowed"

    def __init__(self, model: str, allowed: Iterable[str]) -> None:
        self.model = model
        self.allowed = sorted(allowed)
        super().__init__(
            f"Model '{model}' is not allowed here. Allowed models: {', '.join(self.allowed)}."
        )


class InvalidAgentConfig(DomainError):
    """Raised when a field of an agent is malformed; `field` names it, `reason` says why."""

    code = "invalid_agent_config"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"Invalid {field}: {reason}")


class AgentVersionConflict(DomainError):
    """Raised when a write names a version that is no longer the agent's (someone else
    changed it since it was read): re-read and apply the change again."""

    code = "agent_version_conflict"

    def __init__(self, agent_id: int, expected: int, current: int) -> None:
        self.agent_id = agent_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"Agent {agent_id} changed since version {expected} (it is now version "
            f"{current}); read it again and retry."
        )
