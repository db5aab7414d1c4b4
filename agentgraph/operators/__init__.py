"""The operator side: accounts, roles, sign-in, API keys (plain async services, no HTTP).

`open_operator_auth(settings, domain)` builds the process's `OperatorAuth` (login,
refresh with rotation, logout, credential checks); `OperatorAdmin(domain)` manages
operators and keys on behalf of a `Principal`, inside its tenant; `AgentAdmin(domain)`
does the same for the agent registry (`agent_admin`). The tables and
their queries live in `agentgraph.domain` (`operators`, `api_keys`); the HTTP routes
in `server.api`. Layer: beside `agentgraph.runtime`, above the graphs and the domain.
"""

from agentgraph.operators.admin import (
    OperatorAdmin,
    PermissionDenied,
    create_api_key,
    create_operator,
    seed_demo_operators,
)
from agentgraph.operators.agent_admin import AgentAdmin
from agentgraph.operators.auth import (
    AuthError,
    OperatorAuth,
    TokenPair,
    TooManyAttempts,
    open_operator_auth,
)
from agentgraph.operators.principal import ADMIN_ROLES, ALL_ROLES, Principal, Role

__all__ = [
    "ADMIN_ROLES",
    "ALL_ROLES",
    "AgentAdmin",
    "AuthError",
    "OperatorAdmin",
    "OperatorAuth",
    "PermissionDenied",
    "Principal",
    "Role",
    "TokenPair",
    "TooManyAttempts",
    "create_api_key",
    "create_operator",
    "open_operator_auth",
    "seed_demo_operators",
]
