"""Pydantic models of WhatsApp Cloud API webhook bodies, and their flattening.

`parse_webhook(raw)` validates a POST body's envelope (bytes -> `WebhookBody`) and
raises `InvalidPayload` for malformed JSON (including JSON nested deeper than Python
can read) or a shape that is not a `whatsapp_business_account` notification, so the
server can answer 400 before anything is processed. The messages, statuses and
errors inside are kept raw and validated one by one by
`agentgraph.whatsapp.updates.iter_updates`. Strings are cleaned of lone UTF-16 surrogates
(valid JSON, but no database can store them): each is replaced by "?". Unknown
extra fields are kept (Meta adds fields over time); only the fields agentgraph reads
are typed.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

# Bounds of what one update may hold (Meta's own ids and numbers are far shorter).
MAX_ID_CHARS = 512
WA_ID_PATTERN = r"^[0-9]{5,20}$"


class InvalidPayload(ValueError):
    """The body is not JSON or not a WhatsApp Business Account notification."""


def clean_text(value: str) -> str:
    """`value` with every lone UTF-16 surrogate replaced by "?" (storable UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _clean_strings(cls, data: Any) -> Any:
        # Each model cleans its own level; nested models clean theirs.
        if not isinstance(data, dict):
            return data
        return {
            (clean_text(k) if isinstance(k, str) else k): (
                clean_text(v) if isinstance(v, str) else v
            )
            for k, v in data.items()
        }


class Metadata(_Model):
    """`value.metadata`: the business phone number the change was addressed to."""

    display_phone_number: str | None = None
    phone_number_id: str


class Profile(_Model):
    """`value.contacts[].profile`: the sender's WhatsApp profile name."""

    name: str | None = None


class Contact(_Model):
    """`value.contacts[]`: a sender's WhatsApp id and profile."""

    wa_id: str | None = None
    profile: Profile | None = None


class ErrorData(_Model):
    """`errors[].error_data`: Meta's detailed explanation of an error."""

    details: str | None = None


class ApiError(_Model):
    """An item of an `errors` array (of a value, a message or a status)."""

    code: int
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None


class MessageContext(_Model):
    """`messages[].context`: the message this one replies to, and whether it was forwarded."""

    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None


class Text(_Model):
    """`messages[].text`: the body of a text message."""

    body: str


class Media(_Model):
    """`messages[].image`, `audio`, `video`, `document` or `sticker`: the attachment."""

    id: str | None = None
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class Location(_Model):
    """`messages[].location`: a shared pin (a point on Earth; anything else is refused)."""

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    name: str | None = None
    address: str | None = None


class Reaction(_Model):
    """`messages[].reaction`: an emoji reaction to the earlier message `message_id`."""

    message_id: str | None = None
    emoji: str | None = None


class Button(_Model):
    """`messages[].button`: a tap on a template's quick-reply button."""

    payload: str | None = None
    text: str | None = None


class ReplyId(_Model):
    """`interactive.button_reply` or `list_reply`: the button or list row the user chose."""

    id: str
    title: str | None = None
    description: str | None = None


class Interactive(_Model):
    """`messages[].interactive`: the user's answer to reply buttons or a list message."""

    type: str
    button_reply: ReplyId | None = None
    list_reply: ReplyId | None = None


class Referral(_Model):
    """`messages[].referral`: the ad or post a click-to-WhatsApp conversation came from."""

    source_url: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None


class System(_Model):
    """`messages[].system`: a notice from WhatsApp itself, such as a changed number."""

    body: str | None = None
    type: str | None = None


class Message(_Model):
    """`value.messages[]`: one inbound message; `type` says which content field is set."""

    from_: str = Field(alias="from", pattern=WA_ID_PATTERN)
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    timestamp: str | None = None
    type: str
    context: MessageContext | None = None
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[dict[str, Any]] | None = None
    reaction: Reaction | None = None
    button: Button | None = None
    interactive: Interactive | None = None
    referral: Referral | None = None
    system: System | None = None
    errors: list[ApiError] | None = None


class Status(_Model):
    """`value.statuses[]`: sent, delivered, read or failed, for a message we sent."""

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    status: str
    timestamp: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    recipient_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    errors: list[ApiError] | None = None
    biz_opaque_callback_data: str | None = Field(default=None, max_length=MAX_ID_CHARS)


class Value(_Model):
    """`changes[].value` of a `messages` change: contacts, messages, statuses and errors."""

    messaging_product: str | None = None
    metadata: Metadata
    # Kept raw: `iter_updates` validates each item (and each list) on its own.
    contacts: Any = None
    messages: Any = None
    statuses: Any = None
    errors: Any = None


class Change(_Model):
    """One change; only `messages` changes are typed (others, such as template status
    updates an app may also subscribe to, are kept as plain dicts and ignored)."""

    field: str
    value: Value | dict[str, Any]

    @field_validator("value", mode="plain")
    @classmethod
    def _typed_messages_value(cls, value: Any, info: ValidationInfo) -> Value | dict[str, Any]:
        if info.data.get("field") == "messages":
            return Value.model_validate(value)
        if not isinstance(value, dict):
            raise ValueError("value must be an object")
        return value


class Entry(_Model):
    """`entry[]`: the changes of one WhatsApp Business Account (`id`)."""

    id: str
    changes: list[Change]


class WebhookBody(_Model):
    """The whole notification; an `object` other than `whatsapp_business_account` fails."""

    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


def parse_webhook(raw: bytes) -> WebhookBody:
    """The validated body; `InvalidPayload` names what is wrong."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidPayload(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise InvalidPayload("body is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise InvalidPayload("body is not a JSON object")
    try:
        return WebhookBody.model_validate(data)
    except RecursionError:
        raise InvalidPayload("body is nested too deeply to read") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidPayload(f"unexpected webhook shape at {where}: {first.get('msg')}") from None
