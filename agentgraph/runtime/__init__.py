"""Turn execution for the CLI and the server: ordering, confirmations, retention."""

from agentgraph.runtime.turns import TurnResult, TurnRunner

__all__ = ["TurnResult", "TurnRunner"]
