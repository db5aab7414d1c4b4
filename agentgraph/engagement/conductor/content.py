"""Intervention content: written by the model when one is configured, else templates.

`ContentWriter(model, budget, templates, prompt)`: `await write(kind, facts, seed)`
returns `(content, source)`, `source` being `"model"` or `"template"`. The model is
asked only when one is given, the LLM budget allows a call, and the kind is not an
organizer notification; its answer must be the JSON the prompt asks for, else the
template is used. Any model error falls back to the template too, so writing never
fails, and so does a model slower than `timeout_seconds`. Each call's cost is
counted against the budget: from `PRICES`, or at `default_price_per_mtok` USD per
million tokens (input plus output) for a model missing from the table, so a local
or new model cannot spend without limit. `facts` must hold aggregates only (the
caller guarantees no identity or text).
Templates and prompt are read when the writer is built, never during a run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agentgraph.engagement.conductor.policy import InterventionType
from agentgraph.models.budget import SpendBudget
from agentgraph.models.pricing import estimate_cost_usd, price_for
from agentgraph.prompts import PromptLibrary, prompt_library

logger = logging.getLogger(__name__)

Content = dict[str, Any]


def _render(template: Any, facts: dict[str, Any]) -> Content:
    if isinstance(template, dict):
        return dict(template)

    class _Missing(dict[str, Any]):
        def __missing__(self, key: str) -> str:
            return "?"

    return {"text": str(template).format_map(_Missing(facts))}


def _valid(kind: InterventionType, data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if kind in ("poll", "quiz"):
        options = data.get("options")
        return (
            isinstance(data.get("question"), str)
            and isinstance(options, list)
            and 2 <= len(options) <= 5
            and all(isinstance(o, str) for o in options)
        )
    return isinstance(data.get("text"), str) and bool(data["text"].strip())


def call_cost_usd(
    model_name: str | None, usage: Mapping[str, Any] | None, default_price_per_mtok: float
) -> float:
    """Cost of one call for budget accounting; unpriced models at the default price."""
    if price_for(model_name) is not None or not usage:
        return estimate_cost_usd(model_name, usage)
    tokens = 0
    for field in ("input_tokens", "output_tokens"):
        value = usage.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            tokens += int(value)
    return tokens * default_price_per_mtok / 1_000_000


class ContentWriter:
    """Writes the content of one intervention."""

    def __init__(
        self,
        model: BaseChatModel | None,
        budget: SpendBudget,
        templates: dict[str, list[Any]] | None = None,
        prompt: str | None = None,
        timeout_seconds: float = 20.0,
        default_price_per_mtok: float = 10.0,
        prompts: PromptLibrary | None = None,
    ) -> None:
        self.model = model
        self.budget = budget
        library = prompts or prompt_library()
        self.templates = templates or library.table("engagement_templates.json")
        self.prompt = prompt or library.text("engagement.md")
        self.timeout_seconds = timeout_seconds
        self.default_price_per_mtok = default_price_per_mtok

    def template(self, kind: InterventionType, facts: dict[str, Any], seed: int) -> Content:
        """The template content for `kind`, chosen by `seed` (mass exits get their own notice)."""
        options = self.templates.get(kind) or ["{anomaly_type} in session {session_id}"]
        if kind == "organizer_notification" and facts.get("anomaly_type") == "mass_exit":
            return _render(options[-1], facts)
        return _render(options[seed % len(options)], facts)

    async def write(
        self, kind: InterventionType, facts: dict[str, Any], seed: int
    ) -> tuple[Content, str]:
        """`(content, source)`: the model's content when allowed and valid, else the template's."""
        if self.model is None or kind == "organizer_notification":
            return self.template(kind, facts, seed), "template"
        if not await self.budget.aallows():
            logger.info("Engagement LLM budget spent; using a template for %s", kind)
            return self.template(kind, facts, seed), "template"
        request = json.dumps({"intervention": kind, **facts}, sort_keys=True, default=str)
        try:
            answer = await asyncio.wait_for(
                self.model.ainvoke(
                    [SystemMessage(self.prompt), HumanMessage(request)],
                    config={"tags": ["engagement"], "metadata": {"intervention": kind}},
                ),
                timeout=self.timeout_seconds,
            )
        except Exception as exc:
            logger.warning(
                "Engagement content model failed (%s); using a template", type(exc).__name__
            )
            return self.template(kind, facts, seed), "template"
        meta = answer.response_metadata or {}
        usage = getattr(answer, "usage_metadata", None)
        await self.budget.arecord(
            call_cost_usd(meta.get("model_name"), usage, self.default_price_per_mtok)
        )
        if meta.get("fallback"):
            return self.template(kind, facts, seed), "template"
        try:
            text = answer.content if isinstance(answer.content, str) else str(answer.content)
            data = json.loads(text.strip().removeprefix("```json").removesuffix("```").strip())
        except ValueError:
            data = None
        if not _valid(kind, data):
            return self.template(kind, facts, seed), "template"
        return data, "model"
