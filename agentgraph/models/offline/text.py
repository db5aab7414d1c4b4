"""Text helpers and compiled slot tables shared by the offline model's modules.

Tables and messages go through one normalisation, so a table phrase matches whatever
accents, case or apostrophes the user typed. `normalize(text)` lower-cases, strips
accents and straightens apostrophes without changing the string's length, so a
position found in the normalized text is valid in the original.
`phrase_regex(phrase)` turns a table phrase into a whole-word regex in which spaces
and hyphens are interchangeable. `SlotTables.from_data(section)` compiles the
`slots` section of `prompts/intents.json` once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Marks a span already turned into a slot, so later patterns do not read it again.
# A control character is neither a word character nor whitespace, so it also ends
# free-text captures (notes) at the slot boundary.
BLANK = "\x1f"

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_NUM = r"\d{1,3}(?:[ ,.]\d{3})+|\d+(?:[.,]\d+)?"


def normalize(text: str) -> str:
    """Lower-case, accent-free, straight apostrophes; same length as `text`."""
    out: list[str] = []
    for ch in text.translate(_APOSTROPHES):
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        low = base.lower()
        if len(low) == 1:
            out.append(low)
        else:
            # Ligatures and the like would change the length; keep them as they are.
            out.append(ch.lower() if len(ch.lower()) == 1 else ch)
    return "".join(out)


def phrase_regex(phrase: str) -> str:
    """Regex source matching `phrase` as whole words, spaces and hyphens interchangeable."""
    text = " ".join(normalize(phrase).split())
    if not re.search(r"\w", text):
        # Pure symbols ("-", "->", "#") are taken literally.
        return re.escape(text)
    parts = []
    for ch in text:
        if ch == " ":
            parts.append(r"[\s-]+")
        elif ch == "-":
            parts.append(r"[\s-]*")
        else:
            parts.append(re.escape(ch))
    lead = r"(?<!\w)" if re.match(r"\w", text) else ""
    trail = r"(?!\w)" if re.search(r"\w$", text) else ""
    return lead + "".join(parts) + trail


def _alternation(phrases: Iterable[str]) -> str:
    ordered = sorted({p for p in phrases if p}, key=len, reverse=True)
    return "|".join(phrase_regex(p) for p in ordered)


def _glued(words: Iterable[str], *, lead: bool) -> str:
    """Alternation for words written against a number ("5k", "5000frw", "rwf5000")."""
    ordered = sorted({normalize(w) for w in words if w}, key=len, reverse=True)
    body = "|".join(re.escape(w) for w in ordered)
    return rf"(?<!\w)(?:{body})" if lead else rf"(?:{body})(?!\w)"


@dataclass(frozen=True)
class SlotTables:
    """Compiled slot tables (the `slots` section of `prompts/intents.json`)."""

    city_regex: re.Pattern[str]
    city_names: Mapping[str, str]
    origin_marker: re.Pattern[str]
    destination_marker: re.Pattern[str]
    after_origin_marker: re.Pattern[str]
    date_keywords: tuple[tuple[str, re.Pattern[str]], ...]
    weekday_regex: re.Pattern[str]
    weekday_names: Mapping[str, str]
    day_month: re.Pattern[str]
    month_day: re.Pattern[str]
    month_numbers: Mapping[str, int]
    amount_patterns: tuple[re.Pattern[str], ...]
    multipliers: Mapping[str, int]
    number_words: Mapping[str, int]
    weak_number_words: frozenset[str]
    seats_regex: re.Pattern[str]
    id_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    language_regex: re.Pattern[str]
    language_codes: Mapping[str, str]
    name_trigger: re.Pattern[str]
    name_stopwords: frozenset[str]
    note_regex: re.Pattern[str]
    note_trailing_words: frozenset[str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SlotTables:
        """Compile the `slots` section of `prompts/intents.json`."""
        city_names = {normalize(a): canon for canon, al in data["cities"].items() for a in al}
        months = {normalize(m): int(num) for num, names in data["months"].items() for m in names}
        month_alt = _alternation(months)
        weekday_names = {
            normalize(w): day for day, names in data["weekdays"].items() for w in names
        }
        words = {normalize(w): int(v) for w, v in data["number_words"].items()}
        word_alt = _alternation(words)
        mult = _glued(data["amount_multipliers"], lead=False)
        cur_before = _glued(data["currency"], lead=True)
        cur_after = _glued(data["currency"], lead=False)
        num_marks = _alternation(data["number_markers"])
        id_patterns = [
            (
                slot,
                re.compile(
                    rf"(?:{_alternation(markers)})\s*(?:(?:{num_marks})\s*)?[:.]?\s*(\d{{1,7}})(?!\d)"
                ),
            )
            for slot, markers in data["id_markers"].items()
        ]
        id_patterns.append(("hash_id", re.compile(rf"(?:{num_marks})\s*(\d{{1,7}})(?!\d)")))
        languages = {normalize(n): code for code, names in data["languages"].items() for n in names}
        return cls(
            city_regex=re.compile(_alternation(city_names)),
            city_names=city_names,
            origin_marker=re.compile(rf"(?:{_alternation(data['origin_markers'])})\s*$"),
            destination_marker=re.compile(rf"(?:{_alternation(data['destination_markers'])})\s*$"),
            after_origin_marker=re.compile(
                rf"(?:{_alternation(data['destination_after_origin_markers'])})\s*$"
            ),
            date_keywords=tuple(
                (key, re.compile(_alternation(phrases))) for key, phrases in data["dates"].items()
            ),
            weekday_regex=re.compile(_alternation(weekday_names)),
            weekday_names=weekday_names,
            day_month=re.compile(
                rf"(?<!\w)(\d{{1,2}})(?:st|nd|rd|th|er|e)?\s+(?:of\s+)?({month_alt})(?:\s+(\d{{4}}))?(?!\w)"
            ),
            month_day=re.compile(
                rf"({month_alt})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?(?!\w)"
            ),
            month_numbers=months,
            amount_patterns=(
                re.compile(rf"{cur_before}\.?\s*({_NUM})\s*({mult})?(?!\w)"),
                re.compile(rf"(?<![\w.,])({_NUM})\s*({mult})?\s*{cur_after}"),
                re.compile(rf"(?<![\w.,])({_NUM})\s*({mult})"),
            ),
            multipliers={normalize(k): int(v) for k, v in data["amount_multipliers"].items()},
            number_words=words,
            weak_number_words=frozenset(normalize(w) for w in data["weak_number_words"]),
            seats_regex=re.compile(
                rf"(?<!\w)(\d{{1,2}}|{word_alt})\s*(?:{_alternation(data['seat_nouns'])})"
            ),
            id_patterns=tuple(id_patterns),
            language_regex=re.compile(_alternation(languages)),
            language_codes=languages,
            name_trigger=re.compile(rf"(?:{_alternation(data['name_triggers'])})\s+"),
            name_stopwords=frozenset(normalize(w) for w in data["name_stopwords"]),
            note_regex=re.compile(
                rf"(?:{_alternation(data['note_markers'])})\s*:?\s+([^{BLANK}\n]+)"
            ),
            note_trailing_words=frozenset(normalize(w) for w in data["note_trailing_words"]),
        )
