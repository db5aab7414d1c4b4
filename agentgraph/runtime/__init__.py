"""Running the assistant for the CLI, the server and the WhatsApp workers.

`TurnRunner` (one turn at a time per thread, confirmations, checkpoint retention) and
its `TurnResult` are importable from here. The rest is imported from its module:
`assistant.open_assistant` opens the assistant the CLI and the server use,
`channel.open_whatsapp_channel` wires the WhatsApp channel (inbox, outbox, queue,
locks, rate limiter, delivery) and `worker.consuming` answers the channel's queue.
"""

from agentgraph.runtime.turns import TurnResult, TurnRunner

__all__ = ["TurnResult", "TurnRunner"]
