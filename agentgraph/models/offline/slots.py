"""Slot extraction for the offline chat model: amounts, phones, dates, places, ids.

Tools take exact values, not free text, so slots are extracted into the formats the
tools accept whatever way the user wrote them. `extract_slots(text, tables, today)`
returns a `Slots` record of everything it found in one user message, with phones in
E.164 (`+250...` for Rwandan numbers), amounts as integer RWF, dates as
`today`/`tomorrow`/an English weekday name/`YYYY-MM-DD`, and cities by their
canonical name from `prompts/intents.json`. `merge_slots` folds the records of
several messages, newest wins, resolving unmarked cities into the origin or
destination still missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta

from agentgraph.models.offline.text import BLANK, SlotTables, normalize

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TIMES = re.compile(r"(?<!\w)\d{1,2}(?:[:h]\d{2}|\s?(?:am|pm|h))(?!\w)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])")
_RW_PHONE = re.compile(r"(?<![\d+])(?:\+\s?250|250)?[\s.-]?0?7[2389](?:[\s.-]?\d){7}(?!\d)")
_INTL_PHONE = re.compile(r"(?<![\w+])\+\d(?:[\s.-]?\d){6,13}(?!\d)")
_GROUPED = re.compile(r"\d{1,3}(?:[ ,.]\d{3})+")
_LOOSE_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ ,]\d{3})+|\d+)(?!\w)")
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
_NEGATIVE = re.compile(r"(?:(?<![\w-])-|\b(?:minus|moins))\s*$")


@dataclass
class Slots:
    """What one message (or several, merged) said; None/empty when not said."""

    phone: str | None = None
    amount: int | None = None
    word_amount: int | None = None
    email: str | None = None
    date: str | None = None
    origin: str | None = None
    destination: str | None = None
    cities: list[str] = field(default_factory=list)
    trip_id: int | None = None
    booking_id: int | None = None
    ticket_id: int | None = None
    hash_id: int | None = None
    seats: int | None = None
    numbers: list[int] = field(default_factory=list)
    language: str | None = None
    name: str | None = None
    note: str | None = None
    other_phones: list[str] = field(default_factory=list)
    """Phone numbers after the first one (a message asking for several transfers)."""
    other_amounts: list[int] = field(default_factory=list)
    """Amounts after the first one."""

    def present(self) -> set[str]:
        """Names of the slots that carry a value ('city' when any city was named)."""
        names = {f.name for f in fields(self) if getattr(self, f.name) not in (None, [])}
        if self.origin or self.destination or self.cities:
            names.add("city")
        return names

    def actionable(self) -> bool:
        """True when the message carries something a tool could use."""
        return bool(self.present() - {"note", "word_amount"})

    def first_id(self, *kinds: str) -> int | None:
        """The first id among `kinds` (slot names, 'numbers' for a bare number)."""
        for kind in kinds:
            value = self.numbers[0] if kind == "numbers" and self.numbers else getattr(self, kind)
            if isinstance(value, int):
                return value
        return None


def merge_slots(records: Sequence[Slots]) -> Slots:
    """Fold oldest-to-newest records: newer values win, unmarked cities fill the gaps.

    A single unmarked city fills the destination first, then the origin, and
    replaces the destination when both are known (the user changing where to go).
    """
    merged = Slots()
    origin: str | None = None
    destination: str | None = None
    for record in records:
        for f in fields(record):
            value = getattr(record, f.name)
            if value not in (None, []) and f.name not in ("origin", "destination", "cities"):
                setattr(merged, f.name, list(value) if isinstance(value, list) else value)
        origin = record.origin or origin
        destination = record.destination or destination
        loose = [c for c in record.cities if c not in (record.origin, record.destination)]
        if len(loose) >= 2 and not record.origin and not record.destination:
            origin, destination = loose[0], loose[1]
            continue
        for city in loose:
            if destination is None:
                destination = city
            elif origin is None:
                origin = city
            else:
                destination = city
    return replace(merged, origin=origin, destination=destination, cities=[])


def normalize_phone(raw: str) -> str:
    """E.164 for Rwandan mobile numbers; other numbers keep their digits and '+'."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 12 and digits.startswith("250"):
        return "+" + digits
    if len(digits) == 10 and digits.startswith("07"):
        return "+250" + digits[1:]
    if len(digits) == 9 and digits.startswith("7"):
        return "+250" + digits
    if len(digits) == 13 and digits.startswith("2500"):
        return "+250" + digits[4:]
    return "+" + digits


def _blank(work: str, match: re.Match[str]) -> str:
    start, end = match.span()
    return work[:start] + BLANK * (end - start) + work[end:]


def _parse_number(text: str) -> float:
    text = text.strip()
    if _GROUPED.fullmatch(text):
        return float(re.sub(r"\D", "", text))
    return float(text.replace(",", "."))


def _future_date(today: date, month: int, day: int, year: str | None) -> str | None:
    try:
        if year:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return date(full, month, day).isoformat()
        candidate = date(today.year, month, day)
        if candidate < today:
            candidate = date(today.year + 1, month, day)
        return candidate.isoformat()
    except ValueError:
        return None


def _extract_date(work: str, tables: SlotTables, today: date) -> tuple[str | None, str]:
    for m in _ISO_DATE.finditer(work):
        found = _future_date(today, int(m.group(2)), int(m.group(3)), m.group(1))
        if found:
            return found, _blank(work, m)
    for m in _SLASH_DATE.finditer(work):
        found = _future_date(today, int(m.group(2)), int(m.group(1)), m.group(3))
        if found:
            return found, _blank(work, m)
    for m in tables.day_month.finditer(work):
        month = tables.month_numbers[m.group(2)]
        found = _future_date(today, month, int(m.group(1)), m.group(3))
        if found:
            return found, _blank(work, m)
    for m in tables.month_day.finditer(work):
        month = tables.month_numbers[m.group(1)]
        found = _future_date(today, month, int(m.group(2)), m.group(3))
        if found:
            return found, _blank(work, m)
    for key, regex in tables.date_keywords:
        if keyword := regex.search(work):
            value = (today + timedelta(days=2)).isoformat() if key == "day_after_tomorrow" else key
            return value, _blank(work, keyword)
    if weekday := tables.weekday_regex.search(work):
        return tables.weekday_names[weekday.group(0)], _blank(work, weekday)
    return None, work


def _word_values(token: str, words: Mapping[str, int]) -> list[int] | None:
    if token in words:
        return [words[token]]
    parts = token.split("-")
    values: list[int] = []
    i = 0
    while i < len(parts):
        pair = "-".join(parts[i : i + 2])
        if i + 1 < len(parts) and pair in words:
            values.append(words[pair])
            i += 2
        elif parts[i] in words:
            values.append(words[parts[i]])
            i += 1
        else:
            return None
    return values


def _combine(values: Sequence[int]) -> int:
    total = current = 0
    for value in values:
        if value == 100:
            current = max(current, 1) * 100
        elif value >= 1000:
            total += max(current, 1) * value
            current = 0
        else:
            current += value
    return total + current


def _word_amount(work: str, tables: SlotTables) -> int | None:
    runs: list[tuple[list[str], list[int]]] = [([], [])]
    for m in _WORD.finditer(work):
        token = m.group(0)
        values = _word_values(token, tables.number_words)
        if values is not None:
            runs[-1][0].append(token)
            runs[-1][1].extend(values)
        elif token not in ("and", "et") or not runs[-1][1]:
            runs.append(([], []))
    for tokens, values in runs:
        if values and not (len(tokens) == 1 and tokens[0] in tables.weak_number_words):
            return _combine(values)
    return None


def _extract_cities(work: str, tables: SlotTables, slots: Slots) -> None:
    origin_in_message = False
    for m in tables.city_regex.finditer(work):
        city = tables.city_names[m.group(0)]
        # Markers are short words right before the city; a bounded look-back keeps
        # long messages linear.
        prefix = work[max(0, m.start() - 30) : m.start()]
        if tables.origin_marker.search(prefix):
            slots.origin = city
            origin_in_message = True
        elif tables.destination_marker.search(prefix) or (
            origin_in_message and tables.after_origin_marker.search(prefix)
        ):
            slots.destination = city
        slots.cities.append(city)


def _extract_name(text: str, norm: str, tables: SlotTables) -> str | None:
    m = tables.name_trigger.search(norm)
    if not m:
        return None
    head = re.match(r"\s*([^\W\d_][\w'-]*(?:[ \t]+[^\W\d_][\w'-]*){0,2})", text[m.end() :])
    if not head:
        return None
    words: list[str] = []
    for word in head.group(1).split():
        if normalize(word) in tables.name_stopwords:
            break
        words.append(word)
    if not words:
        return None
    name = " ".join(words)
    return name.title() if name.islower() else name


def _extract_note(text: str, work: str, tables: SlotTables) -> str | None:
    m = tables.note_regex.search(work)
    if not m:
        return None
    note = text[m.start(1) : m.end(1)]
    tokens = note.split()
    while tokens and normalize(tokens[-1]).strip(".,!") in tables.note_trailing_words:
        tokens.pop()
    cleaned = " ".join(tokens).strip(" .,!;:")
    if not cleaned or not re.search(r"[^\W\d_]", cleaned):
        return None
    return cleaned[:80]


def extract_slots(text: str, tables: SlotTables, today: date) -> Slots:
    """Every slot found in one message; see the module docstring for the formats."""
    norm = normalize(text)
    work = norm
    slots = Slots()
    if m := _EMAIL.search(work):
        slots.email = m.group(0).rstrip(".")
        work = _blank(work, m)
    for m in list(_TIMES.finditer(work)):
        work = _blank(work, m)
    slots.date, work = _extract_date(work, tables, today)
    for phone_regex in (_RW_PHONE, _INTL_PHONE):
        while m := phone_regex.search(work):
            if slots.phone is None:
                slots.phone = normalize_phone(m.group(0))
            elif normalize_phone(m.group(0)) != slots.phone:
                slots.other_phones.append(normalize_phone(m.group(0)))
            work = _blank(work, m)
    if m := tables.seats_regex.search(work):
        count = m.group(1)
        slots.seats = int(count) if count.isdigit() else tables.number_words.get(count)
        work = _blank(work, m)
    for slot_name, regex in tables.id_patterns:
        if m := regex.search(work):
            setattr(slots, slot_name, int(m.group(1)))
            work = _blank(work, m)
    for regex in tables.amount_patterns:
        while m := regex.search(work):
            multiplier = tables.multipliers.get(m.group(2) or "", 1)
            amount = round(_parse_number(m.group(1)) * multiplier)
            # "send -500" or "minus 500" keeps its sign, so the tool can refuse it
            # and say why rather than send 500.
            if _NEGATIVE.search(work[: m.start(1)]):
                amount = -amount
            if slots.amount is None:
                slots.amount = amount
            else:
                slots.other_amounts.append(amount)
            work = _blank(work, m)
    slots.note = _extract_note(text, work, tables)
    for m in _LOOSE_NUMBER.finditer(work):
        number = int(re.sub(r"\D", "", m.group(1)))
        slots.numbers.append(-number if _NEGATIVE.search(work[: m.start(1)]) else number)
    slots.word_amount = _word_amount(work, tables)
    _extract_cities(work, tables, slots)
    if m := tables.language_regex.search(work):
        slots.language = tables.language_codes[m.group(0)]
    slots.name = _extract_name(text, norm, tables)
    return slots
