"""The runtime context every assistant run carries: who is talking, for which tenant.

LangGraph passes it to nodes as `runtime.context` and to tools as
`runtime.context` of their `ToolRuntime`. Identity lives here, never in model-provided
tool arguments, so a model cannot act on another user's wallet. Fields default from
environment variables so LangGraph Studio can run the graph with an empty context.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

Channel = Literal["cli", "api", "whatsapp", "studio"]


@dataclass(kw_only=True)
class Context:
    """Per-run facts about the conversation, set by the caller (CLI, server, Studio)."""

    tenant_id: str = field(
        default_factory=lambda: os.environ.get("AGENTGRAPH_DEFAULT_TENANT", "easymo"),
        metadata={"description": "Tenant the user belongs to (easymo, acme, ...)."},
    )
    user_id: str = field(
        default_factory=lambda: os.environ.get("AGENTGRAPH_STUDIO_USER", "+250788000001"),
        metadata={"description": "The user's E.164 phone number; the only identity tools use."},
    )
    channel: Channel = field(
        default="studio",
        metadata={"description": "Where the conversation happens; shapes reply formatting."},
    )
    user_name: str | None = field(
        default=None, metadata={"description": "Display name from the channel, if known."}
    )
    customer_email: str | None = field(
        default=None,
        metadata={
            "description": "The caller's verified email: the only SaaS account a customer "
            "may look up."
        },
    )
    staff: bool = field(
        default=False,
        metadata={
            "description": "True for an operator console: account lookups may name any "
            "customer of the tenant."
        },
    )
    model: str | None = field(
        default=None,
        metadata={"description": "Model name override for this run (else AGENTGRAPH_MODEL)."},
    )
