"""Pricing table lookups, cost arithmetic and the daily cost budget."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentgraph.clock import ManualClock
from agentgraph.models.budget import SpendBudget, shared_budget
from agentgraph.models.pricing import (
    PRICES,
    estimate_cost_usd,
    normalize_model_name,
    price_for,
)


def usage(input_tokens: int, output_tokens: int, cache_read: int | None = None) -> dict:
    data: dict = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    if cache_read is not None:
        data["input_token_details"] = {"cache_read": cache_read}
    return data


@pytest.mark.parametrize(
    ("model", "input_price", "output_price"),
    [
        ("gpt-4o-mini", 0.15, 0.60),
        ("gpt-4o", 2.50, 10.00),
        ("gpt-4.1-mini", 0.40, 1.60),
        ("gpt-4.1", 2.00, 8.00),
        ("gpt-4.1-nano", 0.10, 0.40),
        ("o4-mini", 1.10, 4.40),
        ("gpt-5-mini", 0.25, 2.00),
    ],
)
def test_one_million_tokens_each_way_costs_the_table_prices(model, input_price, output_price):
    assert estimate_cost_usd(model, usage(1_000_000, 0)) == pytest.approx(input_price)
    assert estimate_cost_usd(model, usage(0, 1_000_000)) == pytest.approx(output_price)
    assert estimate_cost_usd(model, usage(1_000_000, 1_000_000)) == pytest.approx(
        input_price + output_price
    )


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("GPT-4o-Mini", "gpt-4o-mini"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("  gpt-5-mini  ", "gpt-5-mini"),
    ],
)
def test_dated_prefixed_and_cased_names_resolve_to_the_base_model(name, base):
    assert normalize_model_name(name) == base
    assert price_for(name) is PRICES[base]
    assert estimate_cost_usd(name, usage(1000, 1000)) == estimate_cost_usd(base, usage(1000, 1000))


def test_a_dated_mini_is_not_priced_as_its_bigger_sibling():
    assert price_for("gpt-4o-mini-2024-07-18") is PRICES["gpt-4o-mini"]
    assert price_for("gpt-4.1-mini-2025-04-14") is PRICES["gpt-4.1-mini"]


@pytest.mark.parametrize(
    "name",
    ["offline", "llama3.1:8b", "Qwen/Qwen2.5-7B-Instruct", "gpt-4o-audio-preview", "", None],
)
def test_unknown_and_offline_models_cost_nothing(name):
    assert price_for(name) is None
    assert estimate_cost_usd(name, usage(10_000, 10_000)) == 0.0


def test_missing_or_empty_usage_costs_nothing():
    assert estimate_cost_usd("gpt-4o", None) == 0.0
    assert estimate_cost_usd("gpt-4o", {}) == 0.0
    assert estimate_cost_usd("gpt-4o", usage(0, 0)) == 0.0


def test_cached_input_tokens_use_the_published_cached_rate():
    # gpt-4o-mini: 0.15 input, 0.075 cached, 0.60 output per 1M.
    cost = estimate_cost_usd("gpt-4o-mini", usage(1200, 300, cache_read=200))
    assert cost == pytest.approx((1000 * 0.15 + 200 * 0.075 + 300 * 0.60) / 1e6)


def test_every_table_row_prices_cached_tokens_below_fresh_ones():
    for price in PRICES.values():
        assert 0 < price.cached_input_rate < price.input


def test_cached_rate_defaults_to_half_the_input_rate():
    from agentgraph.models.pricing import ModelPrice

    assert ModelPrice(input=1.0, output=2.0).cached_input_rate == 0.5


def test_cache_read_larger_than_input_is_clamped():
    all_cached = estimate_cost_usd("gpt-4o", usage(100, 0, cache_read=100))
    assert estimate_cost_usd("gpt-4o", usage(100, 0, cache_read=500)) == pytest.approx(all_cached)


def test_raw_openai_usage_objects_are_understood_too():
    raw = {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "prompt_tokens_details": {"cached_tokens": 200},
    }
    assert estimate_cost_usd("gpt-4o-mini", raw) == pytest.approx(
        estimate_cost_usd("gpt-4o-mini", usage(1200, 300, cache_read=200))
    )


def test_garbage_counts_are_ignored_not_raised():
    weird = {"input_tokens": None, "output_tokens": -5, "input_token_details": None}
    assert estimate_cost_usd("gpt-4o", weird) == 0.0


def test_pricing_never_touches_tiktoken(monkeypatch):
    import tiktoken

    def forbidden(*args, **kwargs):
        raise AssertionError("tiktoken must not be used")

    monkeypatch.setattr(tiktoken, "get_encoding", forbidden)
    monkeypatch.setattr(tiktoken, "encoding_for_model", forbidden)
    assert estimate_cost_usd("gpt-4o-mini", usage(10, 10)) > 0


# Daily budget -------------------------------------------------------------------------


def test_budget_adds_costs_and_is_exhausted_at_the_limit():
    budget = SpendBudget(daily_usd=1.0, clock=ManualClock(datetime(2025, 3, 1, 12, tzinfo=UTC)))
    assert budget.spent_day == 0.0
    assert not budget.exhausted
    budget.record(0.4)
    budget.record(0.5)
    assert budget.spent_day == pytest.approx(0.9)
    assert budget.remaining_today == pytest.approx(0.1)
    assert not budget.exhausted
    budget.record(0.1)
    assert budget.exhausted
    assert budget.remaining_today == 0.0


def test_budget_limit_zero_is_exhausted_from_the_start():
    budget = SpendBudget(daily_usd=0)
    assert budget.exhausted
    assert budget.spent_day == 0.0


def test_budget_resets_at_utc_midnight():
    clock = ManualClock(datetime(2025, 3, 1, 23, 59, 59, tzinfo=UTC))
    budget = SpendBudget(daily_usd=1.0, clock=clock)
    budget.record(2.0)
    assert budget.exhausted
    clock.advance(seconds=1)
    assert budget.spent_day == 0.0
    assert not budget.exhausted


def test_budget_day_follows_utc_not_the_clock_timezone():
    # 01:00 in Kigali (UTC+2) on March 2nd is still March 1st in UTC.
    kigali = timezone(timedelta(hours=2))
    clock = ManualClock(datetime(2025, 3, 1, 23, 0, tzinfo=UTC))
    budget = SpendBudget(daily_usd=1.0, clock=clock)
    budget.record(1.0)
    clock.set(datetime(2025, 3, 2, 1, 0, tzinfo=kigali))
    assert budget.exhausted
    clock.set(datetime(2025, 3, 2, 2, 0, tzinfo=kigali))
    assert not budget.exhausted


def test_budget_ignores_non_positive_and_non_finite_costs():
    budget = SpendBudget(daily_usd=1.0)
    for cost in (0.0, -1.0, float("nan"), float("inf")):
        budget.record(cost)
    assert budget.spent_day == 0.0


def test_budget_rejects_a_negative_limit():
    with pytest.raises(ValueError):
        SpendBudget(daily_usd=-1)


def test_budget_is_consistent_under_concurrent_records():
    budget = SpendBudget(daily_usd=1_000.0)

    def spend() -> None:
        for _ in range(1000):
            budget.record(0.001)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.spent_day == pytest.approx(8.0)


def test_reaching_the_limit_logs_one_warning_with_no_content(caplog):
    budget = SpendBudget(daily_usd=0.5)
    with caplog.at_level("WARNING", logger="agentgraph.models.budget"):
        budget.record(0.6)
        budget.record(0.6)
    assert len(caplog.records) == 1
    assert "budget" in caplog.records[0].getMessage().lower()


def test_shared_budget_is_one_object_per_limit():
    assert shared_budget(12.5) is shared_budget(12.5)
    assert shared_budget(12.5) is not shared_budget(13.5)
