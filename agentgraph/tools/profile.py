"""Profile tools every specialist has: show the profile, change name or language."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import Field

from agentgraph.context import Context
from agentgraph.domain import DomainError
from agentgraph.domain.phones import mask_phone
from agentgraph.tools.services import identity, services_of

__all__ = ["get_user_profile", "update_preferences"]

_LANGUAGES = {"en": "English", "fr": "French"}


@tool
async def get_user_profile(runtime: ToolRuntime[Context, Any]) -> str:
    """Show the user's profile: name, phone, language."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    p = await domain.profiles.get_or_create(tenant, phone)
    name = p.name or "not set"
    return (
        f"Name: {name}. Phone: {mask_phone(p.phone)}. "
        f"Language: {_LANGUAGES.get(p.language, p.language)}."
    )


@tool
async def update_preferences(
    runtime: ToolRuntime[Context, Any],
    language: Annotated[Literal["en", "fr"] | None, Field(description="'en' or 'fr'.")] = None,
    name: str | None = Field(default=None, description="How the user wants to be called."),
) -> str:
    """Change the user's preferred language and/or name."""
    domain = services_of(runtime).domain
    tenant, phone = identity(runtime)
    if language is None and not name:
        return "Tell me what to change: your name or your language (English or French)."
    await domain.profiles.get_or_create(tenant, phone)
    try:
        p = await domain.profiles.update(
            tenant, phone, name=name.strip() if name else None, language=language
        )
    except DomainError as exc:
        return exc.user_message
    if p.language == "fr" and language == "fr":
        return f"C'est noté{', ' + p.name if p.name else ''} : je vous répondrai en français."
    changed = []
    if name:
        changed.append(f"name to {p.name}")
    if language:
        changed.append(f"language to {_LANGUAGES.get(p.language, p.language)}")
    return "Updated your " + " and ".join(changed) + "."
