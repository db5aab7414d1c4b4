"""The WhatsApp Cloud API channel: webhook payload models, signature check, the Graph
API client, reply formatting and the per-message conversation policy.

Nothing here knows about HTTP servers or queues: `server/whatsapp` receives webhooks
and `agentgraph.runtime.worker` runs turns; both use these pieces.
"""
