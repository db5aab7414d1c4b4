"""The WhatsApp Cloud API as a channel adapter: payloads, signature, client, formatting.

Webhook payload models (`payloads`), one inbound message reduced to what a turn
reads (`inbound`), the `X-Hub-Signature-256` check (`signature`), the Graph API
client (`client`) and Meta's message shapes and limits (`formatting`). Nothing here
knows about tenants, threads, turns, HTTP servers or queues: `server/whatsapp`
receives webhooks and `agentgraph.runtime` runs the conversation; both use these
pieces.
"""
