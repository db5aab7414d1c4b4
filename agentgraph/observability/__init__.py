"""What the process tells its operators: masked logs and Prometheus metrics.

`logging.configure_logging()` sends log lines to stderr with phone numbers and secrets
masked; `metrics` holds the one `REGISTRY` every agentgraph metric registers on, the
turn and model-spend metrics, and `render()` for `GET /metrics`. Import from those
modules; this package re-exports nothing.
"""
