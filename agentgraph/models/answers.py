"""What the resilient model does to an answer on its way out, kept apart from the calls.

A caller must be able to tell an offline answer from an LLM one without knowing which
model produced it, so every fallback answer is tagged the same way:
`response_metadata["fallback"] is True`, `["fallback_reason"]` (`FallbackReason`) and
`["model_name"] == OFFLINE_MODEL_NAME`. And a model that does not stream (a
non-streaming primary, the offline fallback) must still feed LangGraph's `messages`
stream mode, so `as_chunk` turns a finished generation into one equal chunk, tool
calls included. Nothing here calls a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk

__all__ = ["OFFLINE_MODEL_NAME", "FallbackReason", "as_chunk", "tag_chunk", "tag_generation"]

OFFLINE_MODEL_NAME = "offline"
"""`response_metadata["model_name"]` of an answer given by the fallback model."""

FallbackReason = Literal["error", "budget"]
"""Why the fallback answered: the LLM failed, or the spending budget said no."""


def as_chunk(generation: ChatGeneration) -> ChatGenerationChunk:
    """One streaming chunk equal to a finished generation (tool calls included)."""
    message = generation.message
    if isinstance(message, BaseMessageChunk):
        chunk_message: BaseMessageChunk = message
    elif isinstance(message, AIMessage):
        chunks = [
            tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
            )
            for i, call in enumerate(message.tool_calls)
        ]
        chunks += [
            tool_call_chunk(
                name=bad.get("name"),
                args=bad.get("args"),
                id=bad.get("id"),
                index=len(chunks) + i,
            )
            for i, bad in enumerate(message.invalid_tool_calls)
        ]
        chunk_message = AIMessageChunk(
            content=message.content,
            additional_kwargs=dict(message.additional_kwargs),
            response_metadata=dict(message.response_metadata),
            usage_metadata=message.usage_metadata,
            id=message.id,
            name=message.name,
            tool_call_chunks=chunks,
        )
    else:
        chunk_message = AIMessageChunk(content=message.content, id=message.id)
    return ChatGenerationChunk(message=chunk_message, generation_info=generation.generation_info)


def _fallback_metadata(metadata: Mapping[str, Any], reason: FallbackReason) -> dict[str, Any]:
    return {
        **metadata,
        "fallback": True,
        "fallback_reason": reason,
        "model_name": OFFLINE_MODEL_NAME,
    }


def tag_generation(generation: ChatGeneration, reason: FallbackReason) -> ChatGeneration:
    """A copy of a fallback generation that says so (the original is left untouched)."""
    message = generation.message.model_copy(
        update={
            "response_metadata": _fallback_metadata(generation.message.response_metadata, reason)
        }
    )
    info = {k: v for k, v in (generation.generation_info or {}).items() if k != "model_name"}
    return ChatGeneration(message=message, generation_info=info or None)


def tag_chunk(
    chunk: ChatGenerationChunk, reason: FallbackReason, first: bool
) -> ChatGenerationChunk:
    """Tag the first chunk of a fallback stream; drop `model_name` from the others so the
    merged message reads exactly "offline" (string metadata concatenates on merge)."""
    metadata = {k: v for k, v in chunk.message.response_metadata.items() if k != "model_name"}
    if first:
        metadata = _fallback_metadata(metadata, reason)
    message = chunk.message.model_copy(update={"response_metadata": metadata})
    info = {k: v for k, v in (chunk.generation_info or {}).items() if k != "model_name"}
    return ChatGenerationChunk(message=message, generation_info=info or None)
