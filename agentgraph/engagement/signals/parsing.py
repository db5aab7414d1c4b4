"""Attendee signals as they arrive on the WebSocket or Redis, parsed at the edge.

`parse_frame(raw)` turns one text frame (a JSON object or a list of them) into
`Signal`s plus a list of human-readable problems, one per rejected item; it never
raises, whatever the frame holds. A `Signal` keeps only what scoring needs: the type,
an opaque attendee key and the client timestamp. Chat text and any other field are
dropped here, so nothing downstream can leak them to a model.
`parse_redis_payload(event_id, payload)` does the same for one decoded Redis message
(`session_id` plus the signal fields or `signals: [...]`, or a list of such objects)
and returns the signals per session and the number of malformed parts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

SignalType = Literal["chat", "poll_vote", "reaction", "join", "leave", "poll_open"]
SIGNAL_TYPES: frozenset[str] = frozenset(get_args(SignalType))
MAX_SIGNALS_PER_FRAME = 1000
_MAX_USER_CHARS = 200
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
    if not isinstance(kind, str):
        return f"signal 'type' must be a string, one of {sorted(SIGNAL_TYPES)}"
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
    return Signal(type=cast(SignalType, kind), user=user, ts=None if ts is None else float(ts))


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
    """Signals and problems from one raw frame; invalid JSON is one problem.

    Never raises: a frame nested too deeply for the decoder, or anything else that
    makes decoding or parsing fail, is reported as one problem.
    """
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return [], ["frame is not valid JSON"]
    try:
        return parse_items(payload)
    except Exception:
        return [], ["frame could not be parsed"]


def parse_redis_payload(event_id: str, payload: Any) -> tuple[list[tuple[str, list[Signal]]], int]:
    """(session id, signals) batches and the count of malformed parts; never raises."""
    if not isinstance(event_id, str) or not _ID.match(event_id):
        return [], 1
    try:
        items = payload if isinstance(payload, list) else [payload]
        batches: list[tuple[str, list[Signal]]] = []
        malformed = 0
        for item in items[:MAX_SIGNALS_PER_FRAME]:
            session_id = item.get("session_id") if isinstance(item, dict) else None
            if not (isinstance(session_id, str) and _ID.match(session_id)):
                malformed += 1
                continue
            body = item.get("signals", item)
            if isinstance(body, dict):
                body = {k: v for k, v in body.items() if k != "session_id"}
            signals, problems = parse_items(body)
            malformed += 1 if problems else 0
            batches.append((session_id, signals))
        return batches, malformed + (1 if len(items) > MAX_SIGNALS_PER_FRAME else 0)
    except Exception:
        return [], 1
