"""Explicit user confirmation for risky actions, built on LangGraph's `interrupt()`.

A tool that moves money or cancels a booking calls `require_confirmation(...)` before
acting. The graph pauses and the caller shows `payload["prompt"]` (over WhatsApp, as
reply buttons). The caller resumes with `Command(resume=ConfirmationAnswer(...))`;
only an answer of "yes" given before `expires_at` lets the tool proceed. Anything
else (no, expiry, a different message) returns a refusal text and the action never
happens. Because the interrupt is raised on every call, a second "yes" after the
action completed has nothing to confirm and cannot repeat it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypedDict

from langgraph.types import interrupt

from agentgraph.prompts import load_table

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


def classify_answer(text: str) -> Answer:
    """Map a reply to yes / no / other using `prompts/confirmation.json` (EN, FR, RW)."""
    table = load_table("confirmation.json")
    folded = " ".join(_fold(text).split())
    if not folded:
        return "other"
    yes = {_fold(w) for w in table["yes"]}
    no = {_fold(w) for w in table["no"]}
    if folded in yes:
        return "yes"
    if folded in no:
        return "no"
    # "yes please send it" / "no thanks": the first word decides when it is unambiguous.
    first = folded.split(" ", 1)[0]
    if first in yes and first not in no:
        return "yes" if len(folded.split()) <= 4 else "other"
    if first in no:
        return "no" if len(folded.split()) <= 4 else "other"
    return "other"


def confirmation_text(key: str, language: str) -> str:
    texts = load_table("confirmation.json")["prompts"]
    return str(texts.get(language, texts["en"])[key])


def require_confirmation(
    *,
    action: str,
    summary: str,
    details: dict[str, Any],
    language: str,
    ttl_seconds: int,
    now: datetime | None = None,
) -> Decision:
    """Pause the graph until the user answers; return whether the action may proceed.

    Must be called inside a graph node (it raises LangGraph's interrupt). On resume
    the tool body runs again from the top, so everything before this call must be
    free of side effects.
    """
    now = now or datetime.now(UTC)
    yes_title, no_title = ("Oui", "Non") if language == "fr" else ("Yes", "No")
    request: ConfirmationRequest = {
        "type": "confirmation",
        "action": action,
        "prompt": f"{summary} {confirmation_text('suffix', language)}",
        "details": details,
        "options": [{"id": "yes", "title": yes_title}, {"id": "no", "title": no_title}],
        "expires_at": (now + timedelta(seconds=ttl_seconds)).isoformat(),
    }
    raw = interrupt(request)
    answer = _coerce_answer(raw)
    verdict = answer.get("answer", "other")
    if verdict == "yes":
        answered_at = _parse_time(answer.get("at")) or now
        if answered_at > datetime.fromisoformat(request["expires_at"]):
            return Decision(False, confirmation_text("expired", language))
        return Decision(True)
    if verdict == "expired":
        return Decision(False, confirmation_text("expired", language))
    if verdict == "no":
        return Decision(False, confirmation_text("cancelled", language))
    return Decision(False, confirmation_text("superseded", language))


def _coerce_answer(raw: object) -> ConfirmationAnswer:
    # Studio and the SDK resume with plain strings; our runtime sends the dict form.
    if isinstance(raw, str):
        return {"answer": classify_answer(raw), "text": raw}
    if isinstance(raw, dict):
        out: ConfirmationAnswer = {}
        if raw.get("answer") in ("yes", "no", "other", "expired", "superseded"):
            out["answer"] = raw["answer"]
        elif isinstance(raw.get("text"), str):
            out["answer"] = classify_answer(raw["text"])
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
