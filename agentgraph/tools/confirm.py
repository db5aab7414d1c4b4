"""Explicit user confirmation for risky actions, built on LangGraph's `interrupt()`.

A tool that moves money or cancels a booking calls `require_confirmation(...)` before
acting. The graph pauses and the caller shows `payload["prompt"]` (over WhatsApp, as
reply buttons). The caller resumes with `Command(resume=ConfirmationAnswer(...))`;
only an answer of "yes" given before `expires_at` lets the tool proceed. Anything
else (no, expiry, a different message) returns a refusal text and the action never
happens. Because the interrupt is raised on every call, a second "yes" after the
action completed has nothing to confirm and cannot repeat it. The yes/no vocabulary
and the prompt texts come from `confirmation.json` of the prompt library in use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, TypedDict

from langgraph.types import interrupt

from agentgraph.clock import Clock
from agentgraph.prompts import PromptLibrary

Answer = Literal["yes", "no", "other"]


class ConfirmationRequest(TypedDict):
    """What the graph surfaces while it waits (the interrupt value)."""

    type: Literal["confirmation"]
    action: str
    prompt: str
    details: dict[str, Any]
    options: list[dict[str, str]]
    expires_at: str


class ConfirmationAnswer(TypedDict, total=False):
    """What a caller resumes with."""

    answer: Answer | Literal["expired", "superseded"]
    text: str
    at: str


@dataclass(frozen=True)
class Decision:
    """The outcome of a confirmation: `approved`, or a user-ready refusal message."""

    approved: bool
    message: str = ""


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9' -]+", " ", text).strip()


_FILLER = {"please", "pls", "plz", "thanks", "thank you", "merci", "svp", "s'il vous plait"}


@lru_cache(maxsize=8)
def _answer_words(prompts: PromptLibrary) -> tuple[frozenset[str], frozenset[str]]:
    """The folded yes- and no-phrases (folded once: every turn classifies its text)."""
    table = prompts.table("confirmation.json")
    return frozenset(_fold(w) for w in table["yes"]), frozenset(_fold(w) for w in table["no"])


def classify_answer(text: str, prompts: PromptLibrary) -> Answer:
    """Map a reply to yes / no / other using `prompts/confirmation.json` (EN, FR, RW).

    Only an unambiguous reply counts: the whole message, less politeness words, must be
    a yes-phrase (or a no-phrase). "ok cancel", "yes but send 2000" or "oui non" are
    "other", which never moves money.
    """
    yes, no = _answer_words(prompts)
    words = " ".join(_fold(text).split())
    for filler in sorted(_FILLER, key=len, reverse=True):
        words = f" {words} ".replace(f" {filler} ", " ").strip()
    if not words:
        return "other"
    if words in yes:
        return "yes"
    if words in no:
        return "no"
    # "no no", "non merci", "cancel it": every word a no-word (or "it") is still a no.
    tokens = words.split()
    if all(t in no or t == "it" for t in tokens) and any(t in no for t in tokens):
        return "no"
    return "other"


def confirmation_text(key: str, language: str, prompts: PromptLibrary) -> str:
    """The confirmation text `key` (suffix, expired, cancelled, ...) in `language`."""
    texts = prompts.table("confirmation.json")["prompts"]
    return str(texts.get(language, texts["en"])[key])


def require_confirmation(
    *,
    action: str,
    summary: str,
    details: dict[str, Any],
    language: str,
    ttl_seconds: int,
    requested_at: datetime,
    prompts: PromptLibrary,
    clock: Clock,
) -> Decision:
    """Pause the graph until the user answers; return whether the action may proceed.

    Must be called inside a graph node (it raises LangGraph's interrupt). On resume
    the tool body runs again from the top, so everything before this call must be
    free of side effects, and `requested_at` must be the same on every run (the time
    the model asked for the action), so the deadline the user saw is the one enforced.
    """
    now = requested_at
    yes_title, no_title = ("Oui", "Non") if language == "fr" else ("Yes", "No")
    request: ConfirmationRequest = {
        "type": "confirmation",
        "action": action,
        "prompt": f"{summary} {confirmation_text('suffix', language, prompts)}",
        "details": details,
        "options": [{"id": "yes", "title": yes_title}, {"id": "no", "title": no_title}],
        "expires_at": (now + timedelta(seconds=ttl_seconds)).isoformat(),
    }
    raw = interrupt(request)
    answer = _coerce_answer(raw, prompts)
    verdict = answer.get("answer", "other")
    if verdict == "yes":
        # An answer without its own time (Studio, the SDK) is timed by the clock now.
        answered_at = _parse_time(answer.get("at")) or clock.now()
        if answered_at > datetime.fromisoformat(request["expires_at"]):
            return Decision(False, confirmation_text("expired", language, prompts))
        return Decision(True)
    if verdict == "expired":
        return Decision(False, confirmation_text("expired", language, prompts))
    if verdict == "no":
        return Decision(False, confirmation_text("cancelled", language, prompts))
    return Decision(False, confirmation_text("superseded", language, prompts))


def _coerce_answer(raw: object, prompts: PromptLibrary) -> ConfirmationAnswer:
    # Studio and the SDK resume with plain strings; our runtime sends the dict form.
    if isinstance(raw, str):
        return {"answer": classify_answer(raw, prompts), "text": raw}
    if isinstance(raw, dict):
        out: ConfirmationAnswer = {}
        if raw.get("answer") in ("yes", "no", "other", "expired", "superseded"):
            out["answer"] = raw["answer"]
        elif isinstance(raw.get("text"), str):
            out["answer"] = classify_answer(raw["text"], prompts)
        if isinstance(raw.get("at"), str):
            out["at"] = raw["at"]
        return out
    return {"answer": "other"}


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
