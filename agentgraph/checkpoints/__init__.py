"""Everything that touches LangGraph's checkpoint tables: savers, preload, retention.

`open_persistence` builds the savers of this package (subclasses of the stock
savers, so `isinstance` checks behave as before): they can serve a checkpoint a turn
already read (`preloaded`), and the Postgres one runs without the stock saver's
per-operation lock and thread hops on a pool. `prune_thread` keeps the newest N
checkpoints of a conversation; `delete_thread` removes one. No other module issues
statements against LangGraph's tables.
"""

from agentgraph.checkpoints.postgres import PreloadingPostgresSaver
from agentgraph.checkpoints.preload import (
    NULL_TASK_ID,
    PreloadingInMemorySaver,
    PreloadingSaver,
    PreloadingSqliteSaver,
    pending_interrupts,
    preloaded,
)
from agentgraph.checkpoints.retention import delete_thread, prune_thread

__all__ = [
    "NULL_TASK_ID",
    "PreloadingInMemorySaver",
    "PreloadingPostgresSaver",
    "PreloadingSaver",
    "PreloadingSqliteSaver",
    "delete_thread",
    "pending_interrupts",
    "preloaded",
    "prune_thread",
]
