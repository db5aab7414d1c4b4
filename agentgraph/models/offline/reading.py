"""Reading one user message: intent, language, slots and how much free text it holds.

Every turn re-reads the recent user messages, so a message is read once into a
cached, immutable `Reading` that the policy can consult as often as it needs.
`read_message(text, tables, today)` scores every intent of `prompts/intents.json`
against the message (best phrase, plus a little for each further match, plus slot
boosts when the intent's own words appear) and returns a `Reading`. `intent` is set
only when the best score reaches the table's `min_score`; ties go to the intent
listed first. `lang` is "en", "fr" or None when the message gives no clue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from agentgraph.models.offline.slots import Slots, extract_slots
from agentgraph.models.offline.tables import Tables
from agentgraph.models.offline.text import BLANK, normalize

_ACCENTED = re.compile(r"[éèêëàâçùûôîïœ]", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z][a-z']*")
# Each further phrase of the same intent adds this much: several cues beat one.
_EXTRA_MATCH = 0.25


@dataclass(frozen=True)
class Reading:
    """What the model understood from one user message."""

    text: str
    norm: str
    intent: str | None
    score: float
    lang: str | None
    slots: Slots
    content_words: int


def _score(
    tables: Tables, norm: str, slots: Slots
) -> tuple[str | None, float, list[str], dict[str, float]]:
    present = slots.present()
    best: str | None = None
    best_score = 0.0
    best_spans: list[str] = []
    lang_votes: dict[str, float] = {}
    for spec in tables.intents.values():
        positive: list[float] = []
        negative = 0.0
        spans: list[str] = []
        for pattern in spec.patterns:
            m = pattern.regex.search(norm)
            if not m:
                continue
            if pattern.weight < 0:
                negative += pattern.weight
                continue
            positive.append(pattern.weight)
            spans.append(m.group(0))
            if pattern.lang:
                lang_votes[pattern.lang] = lang_votes.get(pattern.lang, 0.0) + 1
        if not positive:
            continue
        score = max(positive) + _EXTRA_MATCH * (len(positive) - 1) + negative
        score += sum(v for k, v in spec.boost.items() if k in present)
        if score > best_score:
            best, best_score, best_spans = spec.name, score, spans
    return best, best_score, best_spans, lang_votes


def _language(tables: Tables, text: str, norm: str, votes: dict[str, float]) -> str | None:
    tokens = _TOKEN.findall(norm)
    fr = sum(1 for t in tokens if t in tables.markers["fr"]) + votes.get("fr", 0.0)
    en = sum(1 for t in tokens if t in tables.markers["en"]) + votes.get("en", 0.0)
    fr += len(_ACCENTED.findall(text))
    if fr > en:
        return "fr"
    if en > fr:
        return "en"
    return None


def _content_words(tables: Tables, norm: str, spans: list[str], slots: Slots) -> int:
    covered = {t for span in spans for t in _TOKEN.findall(span)}
    text = norm.replace(BLANK, " ")
    for city in slots.cities:
        text = text.replace(normalize(city), " ")
    return sum(
        1
        for t in _TOKEN.findall(text)
        if len(t) > 1 and t not in tables.stopwords and t not in covered
    )


# Every turn re-reads the recent user messages; the same texts come back each turn.
@lru_cache(maxsize=4096)
def read_message(text: str, tables: Tables, today: date) -> Reading:
    """Intent, language, slots and free-text size of one message (cached: treat the
    returned reading and its slots as read-only)."""
    norm = normalize(text)
    slots = extract_slots(text, tables.slots, today)
    intent, score, spans, votes = _score(tables, norm, slots)
    clear = intent if score >= tables.min_score else None
    return Reading(
        text=text.strip(),
        norm=norm,
        intent=clear,
        score=score,
        lang=_language(tables, text, norm, votes),
        slots=slots,
        content_words=_content_words(tables, norm, spans if clear else [], slots),
    )
