"""The offline rule-based chat model, grouped by concern so each part reads on its own.

The assistant must answer without a network (no `OPENAI_API_KEY`, an LLM that keeps
failing, a spent budget), so `OfflineChatModel` is a real LangChain chat model that
reads the conversation and the bound tools and emits tool calls or replies from data
tables in `prompts/`. The parts, in the order a turn uses them: `model` (the chat
model: role, tool schemas, usage, the clock that says what "today" is), `policy`
(from a conversation to one step), `reading` (intent and language of one message),
`slots` (amounts, phones, dates, places, ids), `tables` (the compiled `prompts/`
tables) and `text` (normalisation and phrase regexes). `agentgraph.models` imports
this package only on first access to `OfflineChatModel`.
"""

from __future__ import annotations

from agentgraph.models.offline.model import OfflineChatModel

__all__ = ["OfflineChatModel"]
