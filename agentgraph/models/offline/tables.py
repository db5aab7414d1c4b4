"""The offline model's data tables, loaded once per directory and compiled.

`load_tables(directory)` reads `intents.json` and `offline_replies.json` from the
prompts directory (by default `agentgraph.prompts.DEFAULT_PROMPTS_DIR`) and returns a frozen
`Tables`: compiled intent patterns in priority order, language markers, stopwords,
the role-to-tool map, compiled slot tables and the reply texts. Results are cached
per directory, so calling it on every model turn costs a dictionary lookup. The menu
and the fallback list what a tenant's agents offer (`menu(lang, capabilities)`:
one line per capability id of the agent registry; every line when unknown).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from agentgraph.models.offline.text import SlotTables, normalize, phrase_regex
from agentgraph.prompts import DEFAULT_PROMPTS_DIR

LANGUAGES = ("en", "fr")

# Relative weight of each kind of phrase list in an intent's table.
_KIND_FACTORS = {"phrases": 1.0, "strong": 2.0, "exact": 1.5}


@dataclass(frozen=True)
class IntentPattern:
    """One compiled phrase: matching it adds `weight`; `lang` hints the message language."""

    regex: re.Pattern[str]
    weight: float
    lang: str | None


@dataclass(frozen=True)
class IntentSpec:
    """An intent: who may serve it (first = triage's handoff target) and with which tool."""

    name: str
    agents: tuple[str, ...]
    tool: str | None
    patterns: tuple[IntentPattern, ...]
    boost: Mapping[str, float]
    free_text: bool
    aside: bool


# eq=False: hashed by identity, so readings can be cached per loaded table set.
@dataclass(frozen=True, eq=False)
class Tables:
    """Everything the offline model reads from `prompts/`."""

    intents: Mapping[str, IntentSpec]
    min_score: float
    markers: Mapping[str, frozenset[str]]
    stopwords: frozenset[str]
    roles: Mapping[str, frozenset[str]]
    carry_past: Mapping[str, frozenset[str]]
    implied_by_slots: Mapping[str, str]
    # Tools of 'aside' intents: finishing one does not close a request in progress.
    aside_tools: frozenset[str]
    trip_listing: tuple[re.Pattern[str], ...]
    slots: SlotTables
    replies: Mapping[str, Any]

    def reply(self, key: str, lang: str) -> str:
        """A top-level reply text in `lang` (English when the table lacks it)."""
        texts: Mapping[str, str] = self.replies[key]
        return texts.get(lang) or texts["en"]

    def _lines(self, capabilities: Sequence[str], lang: str) -> list[str] | None:
        table: Mapping[str, Mapping[str, str]] = self.replies["menu_lines"]
        offered = set(capabilities)
        lines = [
            "- " + (texts.get(lang) or texts["en"])
            for key, texts in table.items()
            if key in offered and isinstance(texts, Mapping)
        ]
        if len(lines) == len([k for k in table if k != "_about"]):
            return None  # everything is offered: the full texts say it
        return lines

    def menu(self, lang: str, capabilities: Sequence[str] | None = None) -> str:
        """The menu of what `capabilities` offer (the full menu when None or all)."""
        lines = None if capabilities is None else self._lines(capabilities, lang)
        if lines is None:
            return self.reply("menu", lang)
        if not lines:
            return self.reply("menu_none", lang)
        head, tail = self.reply("menu_head", lang), self.reply("menu_tail", lang)
        return "\n".join([head, *lines, tail])

    def fallback(self, lang: str, capabilities: Sequence[str] | None = None) -> str:
        """The not-understood reply, listing what `capabilities` offer."""
        lines = None if capabilities is None else self._lines(capabilities, lang)
        if lines is None:
            return self.reply("fallback", lang)
        if not lines:
            return self.reply("menu_none", lang)
        return "\n".join([self.reply("fallback_head", lang), *lines])

    def not_offered(self, agent: str, lang: str) -> str:
        """Why a request for `agent`'s work cannot be served here (a tenant without it)."""
        topic: Mapping[str, str] | None = self.replies["topics"].get(agent)
        if topic is None:
            return self.reply("unavailable", lang)
        return self.reply("not_offered", lang).format(topic=topic.get(lang) or topic["en"])

    def ask(self, intent: str, missing: list[str], lang: str, values: Mapping[str, Any]) -> str:
        """The question for the missing slots of `intent`, filled with known values."""
        table: Mapping[str, Mapping[str, str]] = self.replies["ask"].get(intent, {})
        keys = [missing[0], "*"] if len(missing) == 1 else ["*"]
        for key in keys:
            texts = table.get(key)
            if not texts:
                continue
            template = texts.get(lang) or texts["en"]
            try:
                return template.format_map(dict(values))
            except (KeyError, ValueError):
                continue
        return self.reply("fallback", lang)

    def plain_asks(self, intent: str) -> frozenset[str]:
        """The ask texts of `intent` that take no value, in every language."""
        table: Mapping[str, Mapping[str, str]] = self.replies["ask"].get(intent, {})
        return frozenset(
            text.strip() for texts in table.values() for text in texts.values() if "{" not in text
        )


def _compile_intent(name: str, raw: Mapping[str, Any]) -> IntentSpec:
    weight = float(raw.get("weight", 1.0))
    # Keyed by source: a word listed in both languages (or twice) counts once.
    patterns: dict[str, IntentPattern] = {}
    for lang in LANGUAGES:
        for kind, factor in _KIND_FACTORS.items():
            for phrase in raw.get(lang, {}).get(kind, []):
                source = phrase_regex(phrase)
                if kind == "exact":
                    source = rf"^[\W_]*{source}[\W_]*$"
                known = patterns.get(source)
                if known is None or known.weight < weight * factor:
                    patterns[source] = IntentPattern(re.compile(source), weight * factor, lang)
    for source, extra in raw.get("regex", []):
        patterns[source] = IntentPattern(re.compile(source), float(extra), None)
    return IntentSpec(
        name=name,
        agents=tuple(raw["agents"]),
        tool=raw.get("tool"),
        patterns=tuple(patterns.values()),
        boost={k: float(v) for k, v in raw.get("boost", {}).items()},
        free_text=bool(raw.get("free_text", False)),
        aside=bool(raw.get("aside", False)),
    )


@lru_cache(maxsize=8)
def _load(directory: Path) -> Tables:
    data = json.loads((directory / "intents.json").read_text(encoding="utf-8"))
    replies = json.loads((directory / "offline_replies.json").read_text(encoding="utf-8"))
    intents = {name: _compile_intent(name, raw) for name, raw in data["intents"].items()}
    return Tables(
        intents=intents,
        min_score=float(data["min_score"]),
        markers={
            lang: frozenset(normalize(w) for w in words) for lang, words in data["language"].items()
        },
        stopwords=frozenset(normalize(w) for ws in data["stopwords"].values() for w in ws),
        roles={role: frozenset(tools) for role, tools in data["roles"].items()},
        carry_past={
            tool: frozenset(past) for tool, past in data["carry_past"].items() if tool != "_about"
        },
        implied_by_slots={
            slot: intent for slot, intent in data["implied_by_slots"].items() if slot != "_about"
        },
        aside_tools=frozenset(i.tool for i in intents.values() if i.aside and i.tool),
        trip_listing=tuple(re.compile(p) for p in data["trip_listing"]),
        slots=SlotTables.from_data(data["slots"]),
        replies=replies,
    )


def load_tables(directory: str | Path | None = None) -> Tables:
    """Compiled tables from `directory` (default: the shipped prompts); cached."""
    return _load(Path(directory if directory is not None else DEFAULT_PROMPTS_DIR).resolve())
