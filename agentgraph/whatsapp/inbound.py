"""One inbound WhatsApp message, reduced to what a turn needs.

`InboundMessage.from_update(update)` maps every Cloud API message type to a `kind`
and, where the message carries words, the `text` the assistant reads: text bodies,
reply-button ids (so "yes"/"no" answer confirmations), list-row ids (which are the
follow-up command, e.g. "book trip 12"), template quick-reply texts, media captions
and a description of a shared location. `to_json`/`from_json` round-trip it through
the inbox table.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from agentgraph.whatsapp.updates import MessageUpdate

Kind = Literal[
    "text",
    "button_reply",
    "list_reply",
    "quick_reply",
    "location",
    "media",
    "contacts",
    "reaction",
    "system",
    "unsupported",
]

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")

# Cities the demo trip network serves, for turning a shared pin into a place name.
KNOWN_PLACES: dict[str, tuple[float, float]] = {
    "Kigali": (-1.9441, 30.0619),
    "Huye": (-2.5967, 29.7394),
    "Musanze": (-1.4998, 29.6350),
    "Rubavu": (-1.6790, 29.2590),
}
NEAR_KM = 40.0


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_place(latitude: float, longitude: float) -> str | None:
    """The served city within `NEAR_KM` of the point, if any."""
    best = min(KNOWN_PLACES, key=lambda p: _distance_km((latitude, longitude), KNOWN_PLACES[p]))
    if _distance_km((latitude, longitude), KNOWN_PLACES[best]) <= NEAR_KM:
        return best
    return None


@dataclass(frozen=True)
class InboundMessage:
    """One inbound message as the channel stores it (no tenant, no thread: the runtime
    resolves those)."""

    id: str
    phone_number_id: str
    wa_id: str
    kind: Kind
    text: str | None = None
    media_type: str | None = None
    reply_to: str | None = None
    name: str | None = None
    timestamp: int | None = None
    referral: str | None = None

    def to_json(self) -> str:
        """The message as the JSON text the inbox stores; `from_json` reads it back."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> InboundMessage:
        """The message `to_json` wrote; raises ValueError or TypeError for other text."""
        data: dict[str, Any] = json.loads(raw)
        return cls(**data)

    @classmethod
    def from_update(cls, update: MessageUpdate) -> InboundMessage:
        """The message of a webhook update, mapped as the module docstring says. It never
        raises on content: a type it does not know, or an interactive reply that carries
        errors, becomes `unsupported`, and an unreadable timestamp becomes None."""
        m = update.message
        kind: Kind = "unsupported"
        text: str | None = None
        media_type: str | None = None
        if m.type == "text" and m.text is not None:
            kind, text = "text", m.text.body
        elif m.type == "interactive" and m.interactive is not None and not m.errors:
            if m.interactive.button_reply is not None:
                kind, text = "button_reply", m.interactive.button_reply.id
            elif m.interactive.list_reply is not None:
                kind, text = "list_reply", m.interactive.list_reply.id
        elif m.type == "button" and m.button is not None:
            kind, text = "quick_reply", m.button.text or m.button.payload
        elif m.type == "location" and m.location is not None:
            kind, text = (
                "location",
                _describe_location(m.location.latitude, m.location.longitude, m.location.name),
            )
        elif m.type in MEDIA_TYPES:
            media = getattr(m, m.type, None)
            kind, media_type = "media", m.type
            if m.type == "audio" and media is not None and media.voice:
                media_type = "voice"
            caption = getattr(media, "caption", None) if media is not None else None
            text = caption or None
        elif m.type == "contacts":
            kind = "contacts"
        elif m.type == "reaction":
            kind = "reaction"
        elif m.type == "system":
            kind = "system"
            text = m.system.body if m.system is not None else None
        referral = None
        if m.referral is not None:
            referral = m.referral.headline or m.referral.body or m.referral.source_url
        try:
            timestamp = int(m.timestamp) if m.timestamp else None
        except ValueError:
            timestamp = None
        return cls(
            id=m.id,
            phone_number_id=update.phone_number_id,
            wa_id=m.from_,
            kind=kind,
            text=text,
            media_type=media_type,
            reply_to=m.context.id if m.context is not None else None,
            name=update.contact_name,
            timestamp=timestamp,
            referral=referral,
        )


def _describe_location(latitude: float, longitude: float, name: str | None) -> str:
    place = nearest_place(latitude, longitude)
    if place is not None:
        return f"I am in {place}. Show me trips from {place}."
    label = f"{name} " if name else ""
    return f"My location: {label}({latitude:.5f}, {longitude:.5f})"
