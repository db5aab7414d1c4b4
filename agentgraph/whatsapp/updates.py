"""Flattening a webhook body into updates, each read on its own.

`iter_updates(body)` yields every message, status and error of every entry and
change of a `WebhookBody`, in body order, each with the `phone_number_id` it was
addressed to: a well-formed one as a `MessageUpdate`, `StatusUpdate` or
`ErrorUpdate`, an odd one (wrong types, missing fields, impossible coordinates, a
sender that is no phone number, a field that should be a list and is not) as a
`RejectedUpdate` saying why. One odd update never costs the others of its body.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from agentgraph.whatsapp.payloads import (
    MAX_ID_CHARS,
    ApiError,
    Contact,
    Message,
    Status,
    Value,
    WebhookBody,
    clean_text,
)

__all__ = [
    "ErrorUpdate",
    "MessageUpdate",
    "RejectedUpdate",
    "StatusUpdate",
    "Update",
    "iter_updates",
]


@dataclass(frozen=True)
class MessageUpdate:
    """One inbound message with the business number it was sent to and the sender's name."""

    phone_number_id: str
    message: Message
    contact_name: str | None


@dataclass(frozen=True)
class StatusUpdate:
    """One delivery status with the business number that sent the message."""

    phone_number_id: str
    status: Status


@dataclass(frozen=True)
class ErrorUpdate:
    """One error Meta reported about a change rather than a message, with its number."""

    phone_number_id: str
    error: ApiError


@dataclass(frozen=True)
class RejectedUpdate:
    """One message, status or error of a body that could not be read, and why.

    `item_id` is the item's own id when it had a readable one; `raw` is the item as
    it arrived (for the record of rejected updates)."""

    phone_number_id: str
    kind: Literal["message", "status", "error"]
    reason: str
    item_id: str | None
    raw: Any


Update = MessageUpdate | StatusUpdate | ErrorUpdate | RejectedUpdate


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "item"
        return f"{where}: {first.get('msg')}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return f"{type(exc).__name__}: {exc}"


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return clean_text(value)[:MAX_ID_CHARS] if isinstance(value, str) else None


def _items(
    number: str, kind: Literal["message", "status", "error"], items: Any
) -> tuple[list[Any], RejectedUpdate | None]:
    """The items of one list field, or a rejection when the field is no list."""
    if items is None:
        return [], None
    if isinstance(items, list):
        return items, None
    return [], RejectedUpdate(number, kind, f"{kind} list: not a list", None, items)


def _contact_names(items: Any) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    if not isinstance(items, list):
        return names  # contacts only lend display names; a broken list costs nothing
    for item in items:
        try:
            contact = Contact.model_validate(item)
        except (ValidationError, RecursionError):
            continue  # a contact only lends a display name; the message stands alone
        if contact.wa_id:
            names[contact.wa_id] = contact.profile.name if contact.profile else None
    return names


def iter_updates(body: WebhookBody) -> Iterator[Update]:
    """Every message, status and system error in the body, in order; each item is
    validated on its own, and one that fails is yielded as a `RejectedUpdate`."""
    for entry in body.entry:
        for change in entry.changes:
            value = change.value
            if not isinstance(value, Value):
                continue
            number = value.metadata.phone_number_id
            names = _contact_names(value.contacts)
            messages, broken = _items(number, "message", value.messages)
            statuses, broken_statuses = _items(number, "status", value.statuses)
            errors, broken_errors = _items(number, "error", value.errors)
            for rejection in (broken, broken_statuses, broken_errors):
                if rejection is not None:
                    yield rejection
            for item in messages:
                try:
                    message = Message.model_validate(item)
                except (ValidationError, RecursionError) as exc:
                    yield RejectedUpdate(number, "message", _reason(exc), _item_id(item), item)
                    continue
                yield MessageUpdate(number, message, names.get(message.from_))
            for item in statuses:
                try:
                    status = Status.model_validate(item)
                except (ValidationError, RecursionError) as exc:
                    yield RejectedUpdate(number, "status", _reason(exc), _item_id(item), item)
                    continue
                yield StatusUpdate(number, status)
            for item in errors:
                try:
                    error = ApiError.model_validate(item)
                except (ValidationError, RecursionError) as exc:
                    yield RejectedUpdate(number, "error", _reason(exc), None, item)
                    continue
                yield ErrorUpdate(number, error)
