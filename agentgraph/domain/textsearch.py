"""Keyword relevance for help articles, computed in Python so both engines rank alike.

Text is folded to lowercase ASCII (accents dropped), split into words, stripped of
English and French stopwords and reduced by a small suffix stemmer, so `refunds`,
`refunded` and `refunding` all match `refund`. `score` gives each query term found
in an article 3 points for the title, 2 for the tags and 1 for the body; `rank`
keeps articles scoring above zero, best first, ties broken by slug. The same
inputs always give the same order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

TITLE_WEIGHT = 3.0
TAG_WEIGHT = 2.0
BODY_WEIGHT = 1.0

_STOPWORD_TEXT = """
    a about after all also am an and any are as at be been before being but by can
    could did do does doing done for from get got had has have having he her here hi
    hello him his how i if in into is it its just let me more most my no not now of on
    once only or other our out please should so some such than thank thanks that the
    their them then there these they this those to too up very want was way we were
    what when where which while who why will with would you your yours
    au aux avec ce ces comment dans de des du elle en est et il je la le les leur lui
    ma mais me mes moi mon ne nous on ou par pas pour qu que qui sa se ses son sur ta
    te tes toi ton tu un une vos votre vous bonjour merci svp
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

T = TypeVar("T")

_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ing", "ed")
_VOWELS = frozenset("aeiou")


def fold(text: str) -> str:
    """Lowercase ASCII: accents removed, other non-ASCII characters dropped."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return decomposed.encode("ascii", "ignore").decode("ascii")


def stem(word: str) -> str:
    """A light, deterministic stemmer: plural and common verb/noun suffixes off."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    # Collapse a doubled final consonant so cancelled/cancel, billing/bill agree.
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The stemmed, stopword-free words of `text`, in order (repeats kept)."""
    return [stem(w) for w in _WORD.findall(fold(text)) if w not in STOPWORDS]


def score(query_terms: Iterable[str], title: str, tags: Iterable[str], body: str) -> float:
    """Relevance of one article to already-stemmed, de-duplicated query terms."""
    title_terms = set(terms(title))
    tag_terms = {t for tag in tags for t in terms(tag)}
    body_terms = set(terms(body))
    total = 0.0
    for term in query_terms:
        if term in title_terms:
            total += TITLE_WEIGHT
        if term in tag_terms:
            total += TAG_WEIGHT
        if term in body_terms:
            total += BODY_WEIGHT
    return total


def query_terms(query: str) -> list[str]:
    """Distinct stemmed terms of a query, in first-seen order."""
    return list(dict.fromkeys(terms(query)))


def rank(
    query: str,
    items: Iterable[T],
    fields: Callable[[T], tuple[str, str, Iterable[str], str]],
    limit: int,
) -> list[tuple[T, float]]:
    """The `limit` best items for `query` with their scores; `fields(item)` gives
    (tie-break key, title, tags, body). Items scoring zero are left out."""
    wanted = query_terms(query)
    if not wanted:
        return []
    scored = []
    for item in items:
        key, title, tags, body = fields(item)
        value = score(wanted, title, tags, body)
        if value > 0:
            scored.append((-value, key, item))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return [(item, -neg) for neg, _, item in scored[: max(0, limit)]]
