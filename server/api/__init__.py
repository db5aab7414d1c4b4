"""The operator API under `/api/v1`: auth, users, keys, agents, tools, inbox, conversations
(docs/api.md).

`router` carries every route; `open_operator_api(app, settings, domain)` builds the
process's `OperatorAuth`, `OperatorAdmin` and `AgentAdmin` on the assistant's
domain (the one the assistant reads its registry from) and puts them
in `app.state` for the app's lifetime. Every route but login and refresh takes its
caller from `server.api.deps.require`, the one authorisation dependency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from agentgraph.clock import SYSTEM_CLOCK, Clock
from agentgraph.config import Settings
from agentgraph.domain import Domain
from agentgraph.operators import AgentAdmin, OperatorAdmin, OperatorAuth, open_operator_auth
from server.api import agents, auth, conversations, inbox, keys, tools, users

router = APIRouter(prefix="/api/v1")
router.include_router(auth.router)
router.include_router(users.router)
router.include_router(keys.router)
router.include_router(agents.router)
router.include_router(tools.router)
router.include_router(inbox.router)
router.include_router(inbox.socket_router)
router.include_router(conversations.router)


@asynccontextmanager
async def open_operator_api(
    app: FastAPI, settings: Settings, domain: Domain, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[OperatorAuth]:
    """Serve the operator API's services from `app.state` while the block runs."""
    async with open_operator_auth(settings, domain, clock=clock) as service:
        app.state.operator_auth = service
        app.state.operator_admin = OperatorAdmin(domain)
        app.state.agent_admin = AgentAdmin(domain)
        yield service
