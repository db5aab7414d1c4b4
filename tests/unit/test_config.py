import pytest

from agentgraph.config import ConfigError, load_settings


def test_bad_database_url_is_a_clear_startup_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/db")
    with pytest.raises(ConfigError, match=r"DATABASE_URL: .*postgresql://"):
        load_settings()


def test_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("AGENTGRAPH_HISTORY_WINDOW", "many")
    with pytest.raises(ConfigError, match="AGENTGRAPH_HISTORY_WINDOW"):
        load_settings()


def test_postgres_scheme_alias_is_normalised(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/d")
    assert load_settings().database_url == "postgresql://u@h:5432/d"


def test_defaults_are_the_embedded_offline_setup(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.database_url is None and s.redis_url is None
    assert not s.llm_configured
    assert s.transfer_limit == 500_000 and s.daily_transfer_limit == 500_000
    assert s.history_window == 20


def test_key_enables_llm_unless_offline(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert load_settings().llm_configured
    monkeypatch.setenv("AGENTGRAPH_OFFLINE", "1")
    assert not load_settings().llm_configured
