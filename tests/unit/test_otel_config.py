"""Which OTLP endpoint the settings name, and what they refuse."""

from __future__ import annotations

import pytest

from agentgraph.config import ConfigError, Settings, load_settings
from agentgraph.observability.otel import traces_endpoint


def test_export_is_off_without_an_endpoint():
    settings = Settings()
    assert traces_endpoint(settings) is None
    assert settings.otel_service_name == "agentgraph"


def test_the_base_endpoint_gets_the_traces_path():
    settings = Settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    assert traces_endpoint(settings) == "http://collector:4318/v1/traces"


def test_the_traces_endpoint_is_used_as_is_and_wins():
    settings = Settings(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://traces.example/otlp/v1/traces",
    )
    assert traces_endpoint(settings) == "https://traces.example/otlp/v1/traces"


def test_an_empty_endpoint_is_unset():
    assert traces_endpoint(Settings(OTEL_EXPORTER_OTLP_ENDPOINT=" ")) is None


def test_a_grpc_style_endpoint_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        load_settings()
