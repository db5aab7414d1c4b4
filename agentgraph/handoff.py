"""Handoffs between agents: where the destination of a handoff is written and read.

A handoff tool carries its destination agent in its metadata under
`HANDOFF_DESTINATION`, and so does the `ToolMessage` it returns (in
`response_metadata`), as langgraph-swarm does. `handoff_destination(item)` is the
one reader: it answers the destination for a handoff tool, a handoff result or a
tool described as a dict (`{"metadata": {...}}`), and None for anything else.
Nothing else in agentgraph parses tool names to find a handoff. A handoff tool also
carries, under `HANDOFF_CAPABILITIES`, what its destination offers (capability ids
from the agent registry); `handoff_capabilities(tool)` reads them, None when the tool
does not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "HANDOFF_CAPABILITIES",
    "HANDOFF_DESTINATION",
    "handoff_capabilities",
    "handoff_destination",
]

HANDOFF_DESTINATION = "handoff_destination"
HANDOFF_CAPABILITIES = "handoff_capabilities"


def handoff_destination(item: Any) -> str | None:
    """The agent a handoff tool or handoff result moves to; None when it is no handoff."""
    if isinstance(item, Mapping):
        metadata = item.get("metadata")
    else:
        metadata = getattr(item, "metadata", None)
        if metadata is None:
            metadata = getattr(item, "response_metadata", None)
    if isinstance(metadata, Mapping):
        value = metadata.get(HANDOFF_DESTINATION)
        if isinstance(value, str) and value:
            return value
    return None


def handoff_capabilities(item: Any) -> tuple[str, ...] | None:
    """What the destination of a handoff tool offers; None when the tool does not say."""
    if isinstance(item, Mapping):
        metadata = item.get("metadata")
    else:
        metadata = getattr(item, "metadata", None)
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get(HANDOFF_CAPABILITIES)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return None
