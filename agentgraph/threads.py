"""Thread ids: the one builder every channel uses, and how logs show them.

A conversation's thread id names its channel, its tenant and its user:
`wa:{tenant}:{user}` (WhatsApp), `chat:{tenant}:{user}` (CLI, API, Studio),
`web:{tenant}:{user}` (web chat); a live-event session's is
`event:{event_id}:{session_id}`. The tenant is resolved once per inbound message by
the entry point and passed here; nothing parses it back out of an id.
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


def conversation_thread_id(channel: Channel, tenant: str, user: str) -> str:
    """The thread id of `user`'s conversation with `tenant` on `channel`."""
    return f"{_PREFIX[channel]}:{tenant}:{user}"


def event_thread_id(event_id: str, session_id: str) -> str:
    """The thread id of one live-event session's conductor."""
    return f"event:{event_id}:{session_id}"


def mask_thread_id(thread_id: str) -> str:
    """The id as logs show it: the user part cut to its last two characters."""
    head, _, tail = thread_id.rpartition(":")
    return f"{head}:***{tail[-2:]}" if tail else thread_id
