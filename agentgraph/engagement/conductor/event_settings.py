"""Per-event conductor settings, validated at the HTTP edge and kept in the store.

`EventSettings` is what `GET|PUT /v1/events/{event_id}/settings` exchange;
`EventSettingsUpdate` is a partial update (unset fields keep their value). Values
live in the LangGraph store under namespace `("engagement", "settings")`, key
`event_id`, so every process and every restart sees the same settings. An event
never configured gets `EventSettings.defaults(settings)` (from ENGAGEMENT_* env).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from langgraph.store.base import BaseStore
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentgraph.config import Settings
from agentgraph.engagement.conductor.policy import INTERVENTION_TYPES, AgentMode

SETTINGS_NAMESPACE = ("engagement", "settings")
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def valid_id(value: str) -> bool:
    """Event and session ids: 1-64 of letters, digits, `_` and `-`."""
    return bool(EVENT_ID_PATTERN.match(value))


# Finite numbers only: a NaN cooldown or threshold compares false with everything,
# so it would disable the limit checks and break serialisation of the settings.
CooldownSeconds = Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)]
Threshold = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def _check_cooldowns(value: dict[str, float] | None) -> dict[str, float] | None:
    if value is None:
        return None
    for kind in value:
        if kind not in INTERVENTION_TYPES:
            raise ValueError(f"unknown intervention type {kind!r}; expected {INTERVENTION_TYPES}")
    return value


class EventSettings(BaseModel):
    """The conductor's behaviour for one event."""

    model_config = ConfigDict(extra="forbid")

    agent_enabled: bool = True
    mode: AgentMode = "SEMI_AUTO"
    auto_approve_threshold: Threshold = 0.75
    max_interventions_per_hour: int = Field(default=3, ge=0, le=60)
    cooldowns: dict[str, CooldownSeconds] = Field(
        default_factory=dict, description="Seconds between two interventions of a type."
    )

    @field_validator("cooldowns")
    @classmethod
    def _known_types(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_cooldowns(value) or {}

    @classmethod
    def defaults(cls, settings: Settings) -> EventSettings:
        """The settings of an event never configured, from the ENGAGEMENT_* environment."""
        seconds = settings.engagement_intervention_cooldown_seconds
        return cls(
            mode=settings.engagement_default_mode,
            auto_approve_threshold=settings.engagement_auto_approve_threshold,
            max_interventions_per_hour=settings.engagement_max_interventions_per_hour,
            cooldowns={kind: seconds for kind in INTERVENTION_TYPES},
        )


class EventSettingsUpdate(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    agent_enabled: bool | None = None
    mode: AgentMode | None = None
    auto_approve_threshold: Threshold | None = None
    max_interventions_per_hour: int | None = Field(default=None, ge=0, le=60)
    cooldowns: dict[str, CooldownSeconds] | None = None

    @field_validator("cooldowns")
    @classmethod
    def _known_types(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return _check_cooldowns(value)


async def load_event_settings(store: BaseStore, event_id: str, settings: Settings) -> EventSettings:
    """The event's settings from the store, defaults filled in for anything unset."""
    item = await store.aget(SETTINGS_NAMESPACE, event_id)
    defaults = EventSettings.defaults(settings)
    if item is None:
        return defaults
    data: dict[str, Any] = {**defaults.model_dump(), **item.value}
    data["cooldowns"] = {**defaults.cooldowns, **item.value.get("cooldowns", {})}
    return EventSettings.model_validate(data)


async def save_event_settings(
    store: BaseStore, event_id: str, update: EventSettingsUpdate, settings: Settings
) -> EventSettings:
    """Apply a partial update on top of the stored settings; returns the result."""
    current = await load_event_settings(store, event_id, settings)
    changes = update.model_dump(exclude_unset=True, exclude_none=True)
    if "cooldowns" in changes:
        changes["cooldowns"] = {**current.cooldowns, **changes["cooldowns"]}
    merged = EventSettings.model_validate({**current.model_dump(), **changes})
    await store.aput(SETTINGS_NAMESPACE, event_id, merged.model_dump())
    return merged
