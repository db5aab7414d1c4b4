"""Garbage-collector settings for long-running server and worker processes.

Every message allocates many short-lived objects (LangGraph state and tasks,
messages, pydantic models, SQL rows). CPython's cyclic collector runs a young pass
every 700 net allocations, and from time to time a full pass over every tracked
object, including the hundreds of thousands that start-up created and that live
until exit (modules, the compiled graph, pydantic schemas, the app). In a serving
process under load that was about 2.5% of its CPU (timed with `gc.callbacks`).

`settle_heap()`, called once a process has started (the server's lifespan, the
worker's start-up):

- `gc.freeze()` moves every object alive at that point into the permanent
  generation, so later passes no longer walk them;
- the young-generation threshold goes from 700 to `GEN0_THRESHOLD`, so young passes
  run that many times less often. Cycles are still collected; what waits for a pass
  is at most the garbage of a few messages.

It acts once per process (a test process that starts many apps freezes once).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000

_settled = False


def settle_heap(gen0_threshold: int = GEN0_THRESHOLD) -> bool:
    """Freeze the start-up heap and space out young collections; False if already done."""
    global _settled
    if _settled:
        return False
    _settled = True
    gc.collect()  # start-up garbage is freed, not frozen
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, gen0_threshold), middle, old)
    return True
