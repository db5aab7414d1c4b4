"""Logging with PII masking; metrics and tracing metadata join here with the server."""
