"""build_chat_model's choices and binding tools, with in-process fakes (fallback logic is
`test_resilient_fallback.py`)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from langchain_core.runnables import RunnableBinding
from langchain_openai import ChatOpenAI

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.models import (
    ResilientChatModel,
    SpendBudget,
    build_chat_model,
    shared_budget,
)
from agentgraph.models.factory import KEYLESS_API_KEY
from tests.support.chat_fakes import (
    ScriptedFallback,
    check_balance,
    fallback_reply,
    search_trips,
    settings,
)

# Factory choices -------------------------------------------------------------------------


def test_no_key_and_no_base_url_gives_the_fallback_model_itself():
    fallback = fallback_reply()
    assert build_chat_model(settings(), fallback=fallback) is fallback


def test_offline_flag_wins_over_a_key():
    fallback = fallback_reply()
    s = settings(OPENAI_API_KEY="sk-test", AGENTGRAPH_OFFLINE=True)
    assert not s.llm_configured
    assert build_chat_model(s, fallback=fallback) is fallback


def test_offline_flag_from_the_environment_wins_over_a_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("AGENTGRAPH_OFFLINE", "1")
    fallback = fallback_reply()
    assert build_chat_model(Settings(), fallback=fallback) is fallback


def test_without_an_llm_the_offline_model_is_built():
    from agentgraph.models.offline import OfflineChatModel

    assert isinstance(build_chat_model(settings()), OfflineChatModel)
    with_key_but_offline = settings(OPENAI_API_KEY="sk-test", AGENTGRAPH_OFFLINE=True)
    assert isinstance(build_chat_model(with_key_but_offline), OfflineChatModel)


def test_the_default_fallback_is_the_offline_model_and_learns_the_bound_tools():
    from agentgraph.models.offline import OfflineChatModel

    model = build_chat_model(settings(OPENAI_API_KEY="sk-test"))
    assert isinstance(model, ResilientChatModel)
    assert isinstance(model.fallback, OfflineChatModel)
    bound = model.bind_tools([check_balance, search_trips])
    assert isinstance(bound.fallback, OfflineChatModel)
    assert set(bound.fallback.tool_schemas) == {"check_balance", "search_trips"}


def test_the_offline_model_reads_the_clock_it_is_built_with():
    from agentgraph.models.offline import OfflineChatModel

    clock = ManualClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    offline = build_chat_model(settings(), clock=clock)
    assert isinstance(offline, OfflineChatModel)
    assert offline.clock is clock
    resilient = build_chat_model(settings(OPENAI_API_KEY="sk-test"), clock=clock)
    assert isinstance(resilient, ResilientChatModel)
    assert isinstance(resilient.fallback, OfflineChatModel)
    assert resilient.fallback.clock is clock


def test_importing_models_loads_no_rule_tables_and_no_higher_layer():
    # A fresh interpreter: this test process has long since imported everything.
    code = """
import sys
import agentgraph.models as models
assert not [n for n in sys.modules if n.startswith("agentgraph.models.offline")]
assert models.OfflineChatModel.__module__ == "agentgraph.models.offline.model"
import agentgraph.models.offline.policy, agentgraph.models.resilient
higher = ("domain", "tools", "agents", "runtime", "engagement", "operators", "knowledge")
bad = [n for n in sys.modules if n.split(".")[0] == "server"
       or (n.startswith("agentgraph.") and n.split(".")[1] in higher)]
assert not bad, bad
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_api_key_never_shows_in_reprs_or_traced_parameters():
    from langchain_core.load import dumpd

    model = build_chat_model(settings(OPENAI_API_KEY="sk-test-secret")).bind_tools([check_balance])
    assert isinstance(model, ResilientChatModel)
    assert "sk-test-secret" not in repr(model)
    assert "sk-test-secret" not in str(dumpd(model))
    assert "sk-test-secret" not in repr(model._get_invocation_params())


def test_a_key_gives_a_resilient_chat_openai_configured_from_settings():
    s = settings(
        OPENAI_API_KEY="sk-test",
        AGENTGRAPH_MODEL="gpt-4.1-mini",
        AGENTGRAPH_LLM_TIMEOUT_SECONDS=7,
        AGENTGRAPH_LLM_MAX_RETRIES=4,
    )
    model = build_chat_model(s, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    primary = model.primary
    assert isinstance(primary, ChatOpenAI)
    assert primary.model_name == "gpt-4.1-mini"
    assert primary.openai_api_key is not None
    assert primary.openai_api_key.get_secret_value() == "sk-test"
    assert primary.request_timeout == 7
    assert primary.max_retries == 4
    assert primary.stream_usage is True


def test_base_url_without_key_sends_the_keyless_api_key():
    s = settings(OPENAI_BASE_URL="http://127.0.0.1:11434/v1")
    model = build_chat_model(s, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    assert isinstance(model.primary, ChatOpenAI)
    assert model.primary.openai_api_base == "http://127.0.0.1:11434/v1"
    assert model.primary.openai_api_key is not None
    assert model.primary.openai_api_key.get_secret_value() == KEYLESS_API_KEY
    # Local servers get usage in streams too (ChatOpenAI turns it off for custom URLs).
    assert model.primary.stream_usage is True


def test_the_default_budget_is_the_shared_one_for_the_settings_limit():
    s = settings(OPENAI_API_KEY="sk-test", AGENTGRAPH_DAILY_COST_BUDGET_USD=3.25)
    model = build_chat_model(s, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    assert model.budget is shared_budget(3.25)
    mine = SpendBudget(daily_usd=1.0)
    model = build_chat_model(s, budget=mine, fallback=fallback_reply())
    assert isinstance(model, ResilientChatModel)
    assert model.budget is mine


def test_building_makes_no_network_call(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used while building the model")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    model = build_chat_model(
        settings(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="https://llm.example.com/v1"),
        fallback=fallback_reply(),
    )
    model.bind_tools([check_balance, search_trips])


def test_wrapping_something_that_is_not_a_chat_model_is_refused():
    with pytest.raises(ValueError, match="chat models"):
        ResilientChatModel(primary=check_balance, fallback=fallback_reply())


# bind_tools ------------------------------------------------------------------------------


def test_bind_tools_binds_both_and_returns_a_new_wrapper():
    budget = SpendBudget(daily_usd=5.0)
    model = build_chat_model(
        settings(OPENAI_API_KEY="sk-test"), budget=budget, fallback=fallback_reply()
    )
    assert isinstance(model, ResilientChatModel)
    bound = model.bind_tools([check_balance, search_trips], tool_choice="auto")
    assert isinstance(bound, ResilientChatModel)
    assert bound is not model
    assert bound.budget is budget
    assert isinstance(bound.primary, RunnableBinding)
    tools = bound.primary.kwargs["tools"]
    assert [t["function"]["name"] for t in tools] == ["check_balance", "search_trips"]
    assert bound.primary.kwargs["tool_choice"] == "auto"
    assert isinstance(bound.fallback, ScriptedFallback)
    assert bound.fallback.bound_tools == ["check_balance", "search_trips"]
    # The original stays unbound, and binding again replaces rather than stacks.
    assert isinstance(model.primary, ChatOpenAI)
    rebound = bound.bind_tools([check_balance])
    assert isinstance(rebound.primary, RunnableBinding)
    assert [t["function"]["name"] for t in rebound.primary.kwargs["tools"]] == ["check_balance"]
    assert isinstance(rebound.fallback, ScriptedFallback)
    assert rebound.fallback.bound_tools == ["check_balance"]


def test_traced_invocation_params_show_the_primary_model_and_tools():
    model = build_chat_model(settings(OPENAI_API_KEY="sk-test"), fallback=fallback_reply())
    bound = model.bind_tools([check_balance])
    assert isinstance(bound, ResilientChatModel)
    params = bound._get_invocation_params()
    assert params["model"] == "gpt-4o-mini"
    assert params["tools"][0]["function"]["name"] == "check_balance"
    assert "sk-test" not in repr(params)
    ls = bound._get_ls_params()
    assert ls["ls_provider"] == "openai"
    assert ls["ls_model_name"] == "gpt-4o-mini"
