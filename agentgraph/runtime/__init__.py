"""Turn execution for the CLI and the server: ordering, confirmations, retention."""

from agentgraph.runtime.turns import TurnResult, TurnRunner, chat_thread_id

__all__ = ["TurnResult", "TurnRunner", "chat_thread_id"]
