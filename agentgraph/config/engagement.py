"""The engagement conductor's settings (`ENGAGEMENT_*`), part of the one `Settings`.

Declared apart only to keep the settings module short; `Settings` inherits them and
is still the only object anything reads. Per-event overrides come from the settings
API (`agentgraph.engagement.conductor.event_settings`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class EngagementSettings(BaseSettings):
    """The conductor's fields of `agentgraph.config.Settings`."""

    engagement_tick_seconds: float = Field(
        default=5.0, gt=0, le=300, validation_alias="ENGAGEMENT_TICK_SECONDS"
    )
    engagement_window_seconds: float = Field(
        default=60.0, gt=0, validation_alias="ENGAGEMENT_WINDOW_SECONDS"
    )
    engagement_warmup_ticks: int = Field(
        default=24, ge=1, validation_alias="ENGAGEMENT_WARMUP_TICKS"
    )
    engagement_anomaly_cooldown_seconds: float = Field(
        default=120.0, ge=0, validation_alias="ENGAGEMENT_ANOMALY_COOLDOWN_SECONDS"
    )
    engagement_session_idle_seconds: float = Field(
        default=600.0, gt=0, validation_alias="ENGAGEMENT_SESSION_IDLE_SECONDS"
    )
    engagement_outcome_delay_seconds: float = Field(
        default=60.0, gt=0, validation_alias="ENGAGEMENT_OUTCOME_DELAY_SECONDS"
    )
    engagement_approval_timeout_seconds: float = Field(
        default=60.0, gt=0, validation_alias="ENGAGEMENT_APPROVAL_TIMEOUT_SECONDS"
    )
    engagement_default_mode: Literal["AUTO", "SEMI_AUTO", "MANUAL"] = Field(
        default="SEMI_AUTO", validation_alias="ENGAGEMENT_DEFAULT_MODE"
    )
    engagement_auto_approve_threshold: float = Field(
        default=0.75,
        ge=0,
        le=1,
        allow_inf_nan=False,
        validation_alias="ENGAGEMENT_AUTO_APPROVE_THRESHOLD",
    )
    engagement_min_confidence: float = Field(
        default=0.5, ge=0, le=1, allow_inf_nan=False, validation_alias="ENGAGEMENT_MIN_CONFIDENCE"
    )
    engagement_max_interventions_per_hour: int = Field(
        default=3, ge=0, validation_alias="ENGAGEMENT_MAX_INTERVENTIONS_PER_HOUR"
    )
    engagement_intervention_cooldown_seconds: float = Field(
        default=300.0,
        ge=0,
        allow_inf_nan=False,
        validation_alias="ENGAGEMENT_INTERVENTION_COOLDOWN_SECONDS",
    )
    engagement_success_delta: float = Field(
        default=5.0, ge=0, allow_inf_nan=False, validation_alias="ENGAGEMENT_SUCCESS_DELTA"
    )
    engagement_llm_hourly_budget_usd: float = Field(
        default=20.0, ge=0, validation_alias="ENGAGEMENT_LLM_HOURLY_BUDGET_USD"
    )
    engagement_llm_daily_budget_usd: float = Field(
        default=100.0, ge=0, validation_alias="ENGAGEMENT_LLM_DAILY_BUDGET_USD"
    )
    engagement_llm_default_price_usd_per_mtok: float = Field(
        default=10.0,
        ge=0,
        allow_inf_nan=False,
        validation_alias="ENGAGEMENT_LLM_DEFAULT_PRICE_USD_PER_MTOK",
        description="Budget price (input and output tokens) of a model missing from PRICES.",
    )
    engagement_max_present_per_session: int = Field(
        default=20_000, ge=1, validation_alias="ENGAGEMENT_MAX_PRESENT_PER_SESSION"
    )
    engagement_presence_idle_seconds: float = Field(
        default=3600.0, gt=0, validation_alias="ENGAGEMENT_PRESENCE_IDLE_SECONDS"
    )
    engagement_api_token: SecretStr | None = Field(
        default=None,
        validation_alias="ENGAGEMENT_API_TOKEN",
        description="Shared secret for the organizer and signal sockets and PUT settings.",
    )
