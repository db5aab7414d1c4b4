"""Attendee signals as they arrive on the WebSocket or Redis, parsed at the edge.

`parse_frame(raw)` turns one text frame (a JSON object or a list of them) into
`Signal`s plus a list of human-readable problems, one per rejected item; it never
raises, whatever the frame holds. A `Signal` keeps only what scoring needs: the type,
an opaque attendee key and the client timestamp. Chat text and any other field are
dropped here, so nothing downstream can leak them to a model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

SignalType = Literal["chat", "poll_vote", "reaction", "join", "leave", "poll_open"]
SIGNAL_TYPES: frozenset[str] = frozenset(get_args(SignalType))
MAX_SIGNALS_PER_FRAME = 1000
_MAX_USER_CHARS = 200


@dataclass(frozen=True, slots=True)
class Signal:
    """One attendee action. `user` is opaque; `ts` is the client's time (informative)."""

    type: SignalType
    user: str
    ts: float | None = None


def _parse_item(item: Any) -> Signal | str:
    if not isinstance(item, dict):
        return "each signal must be a JSON object"
    kind = item.get("type")
    if kind not in SIGNAL_TYPES:
        return f"unknown signal type {kind!r}; expected one of {sorted(SIGNAL_TYPES)}"
    user = item.get("user")
    if kind == "poll_open" and user is None:
        user = ""
    if isinstance(user, int) and not isinstance(user, bool):
        user = str(user)
    if not isinstance(user, str) or (kind != "poll_open" and not user):
        return "signal needs a non-empty string 'user'"
    if len(user) > _MAX_USER_CHARS:
        return f"'user' is longer than {_MAX_USER_CHARS} characters"
    ts = item.get("ts")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int | float)):
        return "'ts' must be a number (seconds since the epoch) when given"
    return Signal(type=kind, user=user, ts=None if ts is None else float(ts))


def parse_items(payload: Any) -> tuple[list[Signal], list[str]]:
    """Signals and problems from an already-decoded JSON value (object or list)."""
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > MAX_SIGNALS_PER_FRAME:
        return [], [f"a frame may carry at most {MAX_SIGNALS_PER_FRAME} signals"]
    signals: list[Signal] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        parsed = _parse_item(item)
        if isinstance(parsed, Signal):
            signals.append(parsed)
        else:
            problems.append(parsed if len(items) == 1 else f"item {index}: {parsed}")
    return signals, problems


def parse_frame(raw: str | bytes) -> tuple[list[Signal], list[str]]:
    """Signals and problems from one raw frame; invalid JSON is one problem."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return [], ["frame is not valid JSON"]
    return parse_items(payload)
