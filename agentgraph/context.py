"""The runtime context every assistant run carries: who is talking, for which tenant.

LangGraph passes it to nodes as `runtime.context` and to tools as
`runtime.context` of their `ToolRuntime`. Identity lives here, never in model-provided
tool arguments, so a model cannot act on another user's wallet. The tenant and the
user have no defaults: whoever starts a run (the CLI, a channel, LangGraph Studio's
assistant context) names them, so a run can never fall back to another tenant's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Channel", "Context"]

Channel = Literal["cli", "api", "whatsapp", "web", "studio"]


@dataclass(kw_only=True)
class Context:
    """Per-run facts about the conversation, set by the caller (CLI, server, Studio)."""

    tenant_id: str = field(
        metadata={"description": "Tenant the user belongs to (e.g. easymo, acme)."},
    )
    user_id: str = field(
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
