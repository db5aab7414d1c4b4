"""The FastAPI server: WhatsApp webhooks, event WebSockets, health and metrics.

`server.app.create_app(settings)` builds the application; routers are grouped by
resource and stay thin: they validate input and hand work to `agentgraph.runtime`.
"""
