"""Which tenant an inbound WhatsApp message belongs to, decided once at ingest.

The channel asks `NumberTenants.tenant_for(phone_number_id)` for every message it
stores; the answer goes into the inbox row and the thread id
(`agentgraph.threads.conversation_thread_id`), and every later step reads it from
there. Today a deployment answers one business number (`WHATSAPP_PHONE_NUMBER_ID`)
for one tenant (`AGENTGRAPH_DEFAULT_TENANT`).
"""

from __future__ import annotations

from agentgraph.config import Settings

__all__ = ["NumberTenants"]


class NumberTenants:
    """The tenant each business phone number serves."""

    def __init__(self, settings: Settings) -> None:
        self._default = settings.default_tenant

    def tenant_for(self, phone_number_id: str) -> str:
        """The tenant whose customers write to `phone_number_id`."""
        return self._default
