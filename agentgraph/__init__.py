"""agentgraph: LangGraph state-machine agents for WhatsApp and live events.

The library is organised in one-way layers (docs/architecture.md): `runtime` runs
turns for the CLI and the server; `agents` (the assistant) and `engagement` (the
live-event conductor) are the graphs; `tools` and `models` serve them; `domain` is
the reference business backend; `config`, `clock`, `context` and `prompts` sit at
the bottom. Start with `agentgraph.runtime.assistant.open_assistant`.
"""
