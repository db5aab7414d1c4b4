"""Thread ids: the one builder every channel uses, and how logs show them.

A conversation's thread id names its channel, its tenant and its user by pseudonym:
`wa:{tenant}:{pseudonym}` (WhatsApp), `chat:{tenant}:{pseudonym}` (CLI, API, Studio),
`web:{tenant}:{pseudonym}` (web chat); a live-event session's is
`event:{event_id}:{session_id}`. The pseudonym is the keyed hash of tenant and phone
number made by `domain.pseudonyms` (`Assistant.thread_id` builds the whole id), so no
phone number reaches checkpoints' thread ids, traces or logs. The tenant is resolved
once per inbound message by the entry point and passed here; nothing parses it back
out of an id.
"""

from __future__ import annotations

from agentgraph.context import Channel

__all__ = ["conversation_thread_id", "event_thread_id", "mask_thread_id"]

_PREFIX: dict[Channel, str] = {
    "whatsapp": "wa",
    "web": "web",
    "cli": "chat",
    "api": "chat",
    "studio": "chat",
}


def conversation_thread_id(channel: Channel, tenant: str, pseudonym: str) -> str:
    """The thread id of the conversation of the user named `pseudonym` with `tenant` on
    `channel`."""
    return f"{_PREFIX[channel]}:{tenant}:{pseudonym}"


def event_thread_id(event_id: str, session_id: str) -> str:
    """The thread id of one live-event session's conductor."""
    return f"event:{event_id}:{session_id}"


def mask_thread_id(thread_id: str) -> str:
    """The id as logs show it: the user part cut to its last two characters."""
    head, _, tail = thread_id.rpartition(":")
    return f"{head}:***{tail[-2:]}" if tail else thread_id
