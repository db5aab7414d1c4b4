"""WhatsApp Cloud API endpoints: the webhook (verification and notifications) and the
development outbox. The work itself is `agentgraph.runtime.channel`."""

from server.whatsapp.routes import WEBHOOK_PATH, router, webhook_asgi

__all__ = ["WEBHOOK_PATH", "router", "webhook_asgi"]
