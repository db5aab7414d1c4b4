"""Turning assistant output into Cloud API message bodies within Meta's limits.

`split_text` cuts text into pieces of at most 4096 characters, preferring paragraph,
then sentence, then word boundaries. `text_message`, `buttons_message` and
`list_message` build the type-specific part of a send request (the client adds
`messaging_product`, `recipient_type` and `to`); every title and body is trimmed to
Meta's limits so a send is never refused for length: reply buttons at most 3 with
titles of 20 characters and a body of 1024; lists at most 10 rows with titles of
24 and descriptions of 72 characters.
"""

from __future__ import annotations

import re
from typing import Any

TEXT_LIMIT = 4096
BUTTON_BODY_LIMIT = 1024
MAX_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
MAX_LIST_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _cut_point(text: str, limit: int) -> int:
    window = text[:limit]
    for pattern in ("\n\n", "\n"):
        at = window.rfind(pattern)
        if at > limit // 2:
            return at + len(pattern)
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] > limit // 4:
        return ends[-1]
    at = window.rfind(" ")
    if at > limit // 4:
        return at + 1
    return limit


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of `text`, each at most `limit` characters, cut on natural boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        piece = rest[:cut].strip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def text_message(body: str, *, reply_to: str | None = None) -> dict[str, Any]:
    """A text message of `body` as given (not split or clipped: split longer text with
    `split_text` first), without link previews; `reply_to` quotes that message id."""
    message: dict[str, Any] = {"type": "text", "text": {"body": body, "preview_url": False}}
    if reply_to:
        message["context"] = {"message_id": reply_to}
    return message


def buttons_message(body: str, options: list[dict[str, str]]) -> dict[str, Any]:
    """Reply buttons for `options` ([{id, title}], first three used)."""
    buttons = [
        {
            "type": "reply",
            "reply": {
                "id": clip(str(o["id"]), BUTTON_ID_LIMIT),
                "title": clip(str(o.get("title") or o["id"]), BUTTON_TITLE_LIMIT),
            },
        }
        for o in options[:MAX_BUTTONS]
    ]
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": clip(body, BUTTON_BODY_LIMIT)},
            "action": {"buttons": buttons},
        },
    }


def list_message(
    body: str, rows: list[dict[str, str]], *, button: str = "Choose", section: str = "Options"
) -> dict[str, Any]:
    """A list message with up to 10 `rows` ([{id, title, description?}])."""
    items = []
    for row in rows[:MAX_LIST_ROWS]:
        item = {
            "id": clip(str(row["id"]), ROW_ID_LIMIT),
            "title": clip(str(row["title"]), ROW_TITLE_LIMIT),
        }
        if row.get("description"):
            item["description"] = clip(str(row["description"]), ROW_DESCRIPTION_LIMIT)
        items.append(item)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": clip(body, TEXT_LIMIT)},
            "action": {
                "button": clip(button, LIST_BUTTON_LIMIT),
                "sections": [{"title": clip(section, ROW_TITLE_LIMIT), "rows": items}],
            },
        },
    }
