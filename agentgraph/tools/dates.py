"""Reading the day a customer asks about: 'today', 'demain', 'friday', '2025-12-24', '24/12'.

The words come from the date vocabulary in `prompts/intents.json` (`slots.dates`,
`slots.weekdays`), the same table the offline model reads, so both understand the
same days in English and French. Days are calendar days in Kigali.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache

from agentgraph.clock import KIGALI
from agentgraph.prompts import PromptLibrary

__all__ = ["parse_day"]

_WEEKDAY_INDEX = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_RELATIVE = {"today": 0, "tomorrow": 1, "day_after_tomorrow": 2}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=8)
def _vocabulary(prompts: PromptLibrary) -> tuple[dict[str, int], dict[str, int]]:
    """(day offset by word, weekday index by word), folded."""
    slots = prompts.table("intents.json")["slots"]
    offsets = {
        _fold(word): _RELATIVE[key]
        for key, words in slots["dates"].items()
        if key in _RELATIVE
        for word in words
    }
    weekdays = {
        _fold(word): _WEEKDAY_INDEX[day]
        for day, words in slots["weekdays"].items()
        for word in words
    }
    return offsets, weekdays


def parse_day(text: str | None, now: datetime, prompts: PromptLibrary) -> date | None:
    """A day word, weekday, YYYY-MM-DD or DD/MM[/YY] -> a Kigali date, seen from `now`.

    None or '' means any day. Raises ValueError with a user-ready message otherwise.
    """
    if text is None or not text.strip():
        return None
    today = now.astimezone(KIGALI).date()
    word = _fold(text)
    offsets, weekdays = _vocabulary(prompts)
    if word in offsets:
        return today + timedelta(days=offsets[word])
    if word in weekdays:
        return today + timedelta(days=(weekdays[word] - today.weekday()) % 7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    parts = word.replace("-", "/").split("/")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
        day, month = int(parts[0]), int(parts[1])
        year = int(parts[2]) if len(parts) == 3 else today.year
        if year < 100:
            year += 2000
        try:
            candidate = date(year, month, day)
        except ValueError:
            raise ValueError(f"I could not read the date '{text}'.") from None
        if len(parts) == 2 and candidate < today:
            candidate = date(year + 1, month, day)
        return candidate
    raise ValueError(
        f"I could not read the date '{text}'. Try 'today', 'tomorrow', a weekday or 2025-12-24."
    )
